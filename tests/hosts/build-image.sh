#!/usr/bin/env bash
# Builds the Debian 12 systemd image the molecule scenarios boot, with debootstrap from the
# Debian mirror this machine's apt already uses, and imports it into podman. The tag is a hash of
# the recipe, so the image is rebuilt only when this script or packages.txt changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
name=${ACI_TEST_IMAGE_NAME:-localhost/aci-registry-debian12}
suite=bookworm
recipe=$(cat "$here/build-image.sh" "$here/packages.txt" | sha256sum | cut -c1-12)
image="$name:$recipe"

if podman image exists "$image"; then
    podman tag "$image" "$name:latest"
    echo "$image"
    exit 0
fi

# The mirror comes from apt's own configuration so the image is built from what this machine
# is allowed to reach; DEBIAN_MIRROR overrides it. $(REPO_URI) is apt's placeholder, not shell.
# shellcheck disable=SC2016
mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 2>/dev/null \
    | grep -v -- '-security' | grep -m1 '/debian/$' || true)}
if [ -z "$mirror" ]; then
    echo "build-image: no Debian mirror found in apt's sources; run 'apt-get update' or set DEBIAN_MIRROR" >&2
    exit 1
fi

root=$(mktemp -d /var/tmp/aci-image.XXXXXX)
trap 'rm -rf "$root"' EXIT
include=$(grep -v '^#' "$here/packages.txt" | paste -sd, -)
echo "build-image: debootstrap $suite from $mirror (a few minutes)" >&2
debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" >&2

# Every container gets its own machine-id at boot: systemd fills an empty file.
: > "$root/etc/machine-id"
mkdir -p "$root/var/lib/dbus"
ln -sf /etc/machine-id "$root/var/lib/dbus/machine-id"
# A container has no consoles, no hardware clock and no kernel modules to load.
for unit in getty@tty1.service systemd-logind.service console-getty.service \
            systemd-remount-fs.service sys-kernel-debug.mount dev-hugepages.mount; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# The distribution's nginx must not start on its own: the server role runs its own unit.
chroot "$root" systemctl disable nginx.service >/dev/null 2>&1 || true
rm -f "$root/etc/nginx/sites-enabled/default"
# sshd stays off, without host keys, until a scenario that connects over SSH makes keys of its own
# for each host (ssh-keygen -A) and starts it: no two containers share a host key.
chroot "$root" systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true
rm -f "$root"/etc/ssh/ssh_host_*
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin

tar -C "$root" -c . | podman import \
    --change 'CMD ["/sbin/init"]' \
    --change 'STOPSIGNAL SIGRTMIN+3' \
    --change 'ENV container=podman' \
    - "$image" >&2
podman tag "$image" "$name:latest"
echo "$image"
