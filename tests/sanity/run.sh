#!/usr/bin/env bash
# Runs `ansible-test sanity` on a copy of the checkout laid out as ansible_collections/aci/registry
# (ansible-test insists on that path, and ignores everything below a hidden directory such as
# .build, hence the copy in a temporary directory), holding exactly the files git would ship.
# Extra arguments go to ansible-test, e.g. a list of files or `--test pep8`.
# ANSIBLE_CORE_SERIES=2.17 runs the sanity tests of that ansible-core line instead of the project's.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
series=${ANSIBLE_CORE_SERIES:-}
venv="$top/.build/sanity-venv${series:+-$series}"
work=$(mktemp -d "${TMPDIR:-/tmp}/aci-registry-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ansible-test runs in a venv of its own, with the same ansible-core as the project venv, and
# installs each test's pinned linters into it (--requirements).
if [ -n "$series" ]; then
    core="ansible-core~=$series.0"
else
    core=$(grep -E '^ansible-core==' "$top/requirements-dev.txt")
fi
if [ ! -x "$venv/bin/ansible-test" ] || ! "$venv/bin/pip" show "${core%%[~=]*}" >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -U pip
fi
"$venv/bin/pip" install -q "$core"

# ansible-test's caches and test venvs stay inside the project, not in the user's home.
export HOME="$top/.build/sanity-home${series:+-$series}"
pip_version=$(grep -ohP "^\s+pip='\K[0-9.]+" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
mkdir -p "$HOME/.ansible/test/cache"
cp "$top/tests/sanity/get_pip_offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

dest="$work/ansible_collections/aci/registry"
mkdir -p "$dest"
cd "$top"
git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "$dest/"
cd "$dest"
"$venv/bin/ansible-test" sanity --requirements --python 3.11 --color no "$@"
