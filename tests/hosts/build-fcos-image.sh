#!/usr/bin/env bash
# Builds the Fedora-CoreOS-like test host from the Debian 12 test-host image (build-image.sh) with the
# recipe in fcos/: podman from Debian's packages, no Python, no apt or dpkg, Fedora CoreOS's
# os-release, /run/ostree-booted and an inert rpm-ostree (ansible-core's facts: Fedora, RedHat,
# pkg_mgr atomic_container), an imitation of update-ca-trust, /usr read-only at boot. The tag hashes
# the recipe and the base image's ID, so the image is rebuilt only when either changes. Prints the
# image name.
#
# Run it privileged with podman's storage on a tmpfs or volume (overlay cannot sit on the
# container's own overlay root), e.g.:
#   podman run -d --name X --privileged --cgroupns=private \
#       -v X-containers:/var/lib/containers localhost/aci-registry-fcos:latest
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
name=${ACI_FCOS_IMAGE_NAME:-localhost/aci-registry-fcos}
base_name=${ACI_TEST_IMAGE_NAME:-localhost/aci-registry-debian12}:latest

if ! podman image exists "$base_name"; then
    echo "build-fcos-image: $base_name is missing; run tests/hosts/build-image.sh (make image) first" >&2
    exit 1
fi
base=$(podman image inspect --format '{{.Id}}' "$base_name")
recipe=$( { cat "$here/build-fcos-image.sh"
            find "$here/fcos" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort | while read -r f; do
                echo "$f"; cat "$here/fcos/$f"; done
            echo "$base"; } | sha256sum | cut -c1-12)
image="$name:$recipe"

if podman image exists "$image"; then
    podman tag "$image" "$name:latest"
    echo "$image"
    exit 0
fi

# The host's network: the build installs from the Debian mirror, which the host's resolver
# reaches and podman's default network may not.
echo "build-fcos-image: building $image from $base_name (a minute or two)" >&2
# --squash: one layer over the base, so what the recipe deletes takes no room.
podman build --squash --network host --pull=never --build-arg "BASE=$base" \
    --label "aci.registry.recipe=$recipe" -t "$image" -f "$here/fcos/Containerfile" "$here/fcos" >&2
podman tag "$image" "$name:latest"
echo "$image"
