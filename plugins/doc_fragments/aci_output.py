# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of every module that writes an ACI file (aci_build, aci_from_docker)."""

from __future__ import annotations


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
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
'''
