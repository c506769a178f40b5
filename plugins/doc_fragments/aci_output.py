# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options, attributes and notes of every module that writes an ACI file (aci_build, aci_from_docker), the
ones ``aci_dest`` specifies and implements. Use it after ansible.builtin.action_common_attributes and
its FILES variant, which describe the attributes given support here."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r'''
options:
  dest:
    description:
      - Path of the image to write, usually ending in C(.aci).
    type: path
    required: true
  compression:
    description:
      - How to compress the image. V(gzip) uses ISA-L (python-isal) on every core when it is
        installed and zlib otherwise; the two give different, each stable, bytes.
    type: str
    choices: [gzip, none, bzip2, xz]
    default: gzip
  compression_level:
    description:
      - Compression level; 1-9 for V(gzip) (default 6; with ISA-L, 1-3 map to its level 1, 4-6
        to 2 and 7-9 to 3), 1-9 for V(bzip2) (default 9), 0-9 for V(xz) (default 6).
      - An existing O(dest) with the same content and compression is not rewritten when only the
        level changes.
    type: int
  owner_root:
    description:
      - Store every file as owned by 0:0 (root) instead of the owner its source gives (the file on
        disk, the layer, the existing image), like C(actool build --owner-root).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reads the sources in full and computes the image ID and whether O(dest) would change,
      without writing.
  diff_mode:
    support: partial
    details: Shows the manifest before and after; changes to the root filesystem only show as
      RV(ignore:changed) and a new RV(image_id).
  platform:
    platforms: posix
  safe_file_operations:
    support: full
    details: The image is written to a temporary file beside O(dest), which gets its mode and
      owner, and only then renamed over O(dest).
  vault:
    support: none
notes:
  - Python-isal (PyPI C(isal)) on the host makes gzip several times faster; without it zlib is
    used, on every core as well.
  - The image ID is the one C(rkt image list) shows; it is computed while the image is written,
    from exactly the bytes written, and recorded on O(dest) in the C(user.aci.registry.identity)
    extended attribute together with the SHA-256 of the file.
  - An unchanged rerun decompresses O(dest) and compares it in full with the tar it would write
    (nothing is compressed). When the recorded SHA-256 matches the file read, the recorded image
    ID is returned instead of hashing the tar again; otherwise the tar is hashed.
'''
