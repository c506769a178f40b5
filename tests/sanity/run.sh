#!/usr/bin/env bash
# Runs `ansible-test sanity` on a copy of the checkout laid out as ansible_collections/aci/registry
# (ansible-test insists on that path), holding exactly the files git would ship.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dest="$top/.build/sanity/ansible_collections/aci/registry"
rm -rf "$dest" && mkdir -p "$dest"
cd "$top"
git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "$dest/"
cd "$dest"
# --venv: ansible-test builds a venv per test with its own pinned linters, from PyPI.
exec ansible-test sanity --venv --requirements --python 3.11 --color no "$@"
