# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_addresses filter: a host's IP addresses that clients may use, from its network facts."""

from __future__ import annotations

import fnmatch

from ansible.errors import AnsibleFilterError


def _interface_addresses(facts, name):
    # Facts key an interface by its name with "-" and ":" made "_" (br-1a2b -> br_1a2b).
    info = facts.get(name.replace('-', '_').replace(':', '_')) or {}
    if not isinstance(info, dict):
        return []
    found = []
    for entry in [info.get('ipv4')] + list(info.get('ipv4_secondaries') or []):
        if isinstance(entry, dict) and entry.get('address'):
            found.append(entry['address'])
    for entry in info.get('ipv6') or []:
        # Link-local addresses mean nothing without an interface to say which link.
        if isinstance(entry, dict) and entry.get('address') and entry.get('scope') != 'link' \
                and not entry['address'].lower().startswith('fe80:'):
            found.append(entry['address'])
    return found


def host_addresses(facts, exclude=()):
    """IPv4 then IPv6 addresses of every interface whose name matches none of the shell patterns
    in ``exclude``, each once, in the order of ``facts['interfaces']``."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError('host_addresses: expected ansible_facts (gathered with the network subset), got %s'
                                 % type(facts).__name__)
    if isinstance(exclude, str) or not all(isinstance(p, str) for p in exclude or ()):
        raise AnsibleFilterError('host_addresses: exclude must be a list of interface name patterns, got %r' % (exclude,))
    v4, v6 = [], []
    for name in facts.get('interfaces') or []:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude or ()):
            continue
        for address in _interface_addresses(facts, name):
            target = v6 if ':' in address else v4
            if address not in target:
                target.append(address)
    return v4 + v6


class FilterModule:
    def filters(self):
        return {'host_addresses': host_addresses}
