#!/usr/bin/env bash
# Builds the smallest nginx container image the server role can run under docker (Flatcar has no
# nginx): Debian 12's nginx-light binary from the Debian test-host image, the shared libraries it
# links, a minimal passwd/group and nsswitch.conf, nothing else. Saved as a docker-archive that
# `docker load -i` takes. The image has no entrypoint: the unit names the command, e.g.
#   docker run --read-only --cap-drop ALL --cap-add NET_BIND_SERVICE --cap-add SETUID \
#       --cap-add SETGID --security-opt no-new-privileges --network host \
#       -v /etc/passwd:/etc/passwd:ro -v /etc/group:/etc/group:ro ... \
#       IMAGE /usr/sbin/nginx -e stderr -c /etc/aci-registry/nginx.conf
# The tag is nginx's Debian version; the archive is remade only when this script or the base
# image changes. Prints the archive's path and the image name.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
name=${ACI_NGINX_IMAGE_NAME:-localhost/aci-registry-nginx}
base_name=${ACI_TEST_IMAGE_NAME:-localhost/aci-registry-debian12}:latest
out_dir=${ACI_IMAGES_DIR:-$(cd "$here/../.." && pwd)/.build/images}
archive="$out_dir/aci-registry-nginx.tar"

if ! podman image exists "$base_name"; then
    echo "build-nginx-image: $base_name is missing; run tests/hosts/build-image.sh (make image) first" >&2
    exit 1
fi
base=$(podman image inspect --format '{{.Id}}' "$base_name")
recipe=$( { cat "$here/build-nginx-image.sh"; echo "$base"; } | sha256sum | cut -c1-12)

# The stamp beside the archive says which recipe and image made it.
if [ -f "$archive" ] && [ "$(cat "$archive.recipe" 2>/dev/null)" = "$recipe" ]; then
    cat "$archive.name"
    exit 0
fi

# Debian versions carry '+' and ':', which an image tag cannot.
version=$(podman run --rm --network none "$base_name" dpkg-query -W -f '${Version}' nginx-light | tr '+:~' '___')
image="$name:$version"
mkdir -p "$out_dir"
work=$(mktemp -d /var/tmp/aci-nginx.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The tree is gathered inside the base image, where nginx and its libraries are, and comes out as
# a tar (sorted, dated 1970, so the same files give the same layer). Libraries land under /usr/lib (merged /usr, as Debian has it) under the names the binary
# asks for; the loader goes where the binary's interpreter path points.
echo "build-nginx-image: gathering nginx from $base_name" >&2
podman run --rm --network none "$base_name" bash -euo pipefail -c '
    root=$(mktemp -d)
    mkdir -p "$root"/usr/sbin "$root"/usr/lib/x86_64-linux-gnu "$root"/usr/lib64 "$root"/etc \
             "$root"/run "$root"/tmp "$root"/var/log "$root"/var/cache
    ln -s usr/lib "$root"/lib
    ln -s usr/lib64 "$root"/lib64
    ln -s usr/sbin "$root"/sbin
    chmod 755 "$root"
    chmod 1777 "$root"/tmp
    cp /usr/sbin/nginx "$root"/usr/sbin/nginx
    ldd /usr/sbin/nginx | while read -r soname arrow path _; do
        case "$soname" in
            linux-vdso.so.*) ;;
            /*) cp -L "$soname" "$root/usr/lib64/$(basename "$soname")" ;;
            *) cp -L "$path" "$root/usr/lib/x86_64-linux-gnu/$soname" ;;
        esac
    done
    # Accounts nginx can start with on its own; the server role bind-mounts the host'"'"'s files
    # over these two (read-only), so its worker user resolves.
    printf "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" > "$root"/etc/passwd
    printf "root:x:0:\nnogroup:x:65534:\n" > "$root"/etc/group
    # Users and groups come from those files alone, whatever the host'"'"'s nsswitch.conf says.
    printf "passwd: files\ngroup: files\nhosts: files dns\n" > "$root"/etc/nsswitch.conf
    tar -C "$root" --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -c .
' > "$work/rootfs.tar"

podman rmi -f "$image" >/dev/null 2>&1 || true
podman import \
    --change 'CMD ["/usr/sbin/nginx", "-e", "stderr", "-c", "/etc/aci-registry/nginx.conf"]' \
    --change 'STOPSIGNAL SIGQUIT' \
    --change "LABEL org.opencontainers.image.title=aci-registry-nginx org.opencontainers.image.version=$version aci.registry.recipe=$recipe" \
    "$work/rootfs.tar" "$image" >/dev/null
rm -f "$archive" "$archive.recipe" "$archive.name"
podman save --format docker-archive -o "$archive" "$image" >&2
printf '%s %s\n' "$archive" "$image" > "$archive.name"
echo "$recipe" > "$archive.recipe"
cat "$archive.name"
