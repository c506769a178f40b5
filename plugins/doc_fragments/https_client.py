# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of every module that reads a registry over HTTPS (aci_fetch, aci_registry_info, aci_replica_sync), the ones
``module_utils/https.py`` implements."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r'''
options:
  ca_path:
    description:
      - A PEM CA bundle to trust instead of the system trust store.
      - The certificate is always verified; there is no option to turn that off. A redirect is followed
        only to another C(https://) URL.
    type: path
  timeout:
    description: Seconds to wait for each HTTP response.
    type: int
    default: 30
'''
