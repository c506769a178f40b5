#!/usr/bin/env bash
# Builds a test host of another kind from the Debian 12 test-host image (build-image.sh), with the
# recipe in tests/hosts/<kind>/ (its Containerfile and the files it copies), as
# localhost/aci-registry-<kind>:<hash> and :latest. The tag hashes this script, the recipe and the
# base image's ID, so the image is rebuilt only when one of them changes. Prints the image name.
#
#   flatcar  Flatcar-like: Docker from Debian's packages, no Python, apt or dpkg, Flatcar's
#            os-release and update-ca-certificates, /usr read-only at boot. Run it privileged with
#            Docker's storage on a volume or tmpfs (overlay2 cannot sit on the container's own
#            overlay root): podman run -d --privileged --cgroupns=private \
#            -v X-docker:/var/lib/docker localhost/aci-registry-flatcar:latest
#   fcos     Fedora-CoreOS-like: podman from Debian's packages, no Python, apt or dpkg, Fedora
#            CoreOS's os-release, /run/ostree-booted and an inert rpm-ostree (ansible-core: Fedora,
#            RedHat, pkg_mgr atomic_container), an imitation of update-ca-trust, /usr read-only.
#            Run it the same way with podman's storage at /var/lib/containers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kind=${1:-}
if [ -z "$kind" ] || [ ! -f "$here/$kind/Containerfile" ]; then
    echo "usage: $0 KIND, where tests/hosts/KIND/Containerfile exists (flatcar, fcos)" >&2
    exit 2
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
name=localhost/aci-registry-$kind
base_name=${ACI_TEST_IMAGE_NAME:-localhost/aci-registry-debian12}:latest

if ! podman image exists "$base_name"; then
    echo "build-derived-image: $base_name is missing; run tests/hosts/build-image.sh (make image) first" >&2
    exit 1
fi
base=$(podman image inspect --format '{{.Id}}' "$base_name")
recipe=$( { cat "$here/build-derived-image.sh"
            find "$here/$kind" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort | while read -r f; do
                echo "$f"; cat "$here/$kind/$f"; done
            echo "$base"; } | sha256sum | cut -c1-12)
image="$name:$recipe"

if podman image exists "$image"; then
    podman tag "$image" "$name:latest"
    echo "$image"
    exit 0
fi

# The host's network: the build installs from the Debian mirror, which the host's resolver
# reaches and podman's default network may not.
echo "build-derived-image: building $image from $base_name (a minute or two)" >&2
# --squash: one layer over the base, so what the recipe deletes takes no room.
podman build --squash --network host --pull=never --build-arg "BASE=$base" \
    --label "aci.registry.recipe=$recipe" -t "$image" -f "$here/$kind/Containerfile" "$here/$kind" >&2
podman tag "$image" "$name:latest"
echo "$image"
