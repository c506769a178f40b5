# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The openpgp_keys filter: what an armored key is, read on the controller with gpg."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.module_utils import gpg


def openpgp_keys(data):
    """``[{fingerprint, uid, algorithm, key_type, key_size, expires, rkt_problem}]`` for the keys in ``data``."""
    if not isinstance(data, (str, bytes)):
        raise AnsibleFilterError('openpgp_keys: expected OpenPGP key data as text, got %s' % type(data).__name__)
    try:
        keys = gpg.read_public_keys(data)
    except gpg.GpgError as e:
        raise AnsibleFilterError('openpgp_keys: %s' % e)
    fields = ('fingerprint', 'uid', 'algorithm', 'key_type', 'key_size', 'expires', 'rkt_problem')
    return [dict((field, key[field]) for field in fields) for key in keys]


class FilterModule:
    def filters(self):
        return {'openpgp_keys': openpgp_keys}
