# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_addresses: the addresses a host certificate names, from network facts."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.filter.host_addresses import host_addresses

DEFAULT_EXCLUDE = ['lo', 'docker*', 'br-*', 'veth*']

FACTS = {
    'interfaces': ['lo', 'eth0', 'docker0', 'br-1a2b', 'veth9f', 'eth1'],
    'lo': {'ipv4': {'address': '127.0.0.1'}, 'ipv6': [{'address': '::1', 'scope': 'host'}]},
    'eth0': {
        'ipv4': {'address': '192.0.2.10'},
        'ipv4_secondaries': [{'address': '192.0.2.11'}],
        'ipv6': [{'address': 'fe80::1', 'scope': 'link'}, {'address': '2001:db8::10', 'scope': 'global'}],
    },
    'docker0': {'ipv4': {'address': '172.17.0.1'}},
    'br_1a2b': {'ipv4': {'address': '172.18.0.1'}},
    'veth9f': {'ipv6': [{'address': 'fe80::2', 'scope': 'link'}]},
    # The same address on two interfaces (a VIP) is named once.
    'eth1': {'ipv4': {'address': '192.0.2.10'}, 'ipv6': [{'address': 'FE80::3', 'scope': 'global'}]},
}


def test_addresses_of_real_interfaces_ipv4_first():
    assert host_addresses(FACTS, DEFAULT_EXCLUDE) == ['192.0.2.10', '192.0.2.11', '2001:db8::10']


def test_without_exclusions_bridges_and_loopback_count():
    assert host_addresses(FACTS) == ['127.0.0.1', '192.0.2.10', '192.0.2.11', '172.17.0.1', '172.18.0.1',
                                     '::1', '2001:db8::10']


def test_docker_starting_changes_nothing():
    before = dict(FACTS, interfaces=['lo', 'eth0', 'eth1'])
    assert host_addresses(before, DEFAULT_EXCLUDE) == host_addresses(FACTS, DEFAULT_EXCLUDE)


def test_interfaces_without_facts_or_addresses_are_skipped():
    assert host_addresses({'interfaces': ['eth0', 'wg0'], 'eth0': {}, 'wg0': 'down'}) == []
    assert host_addresses({}) == []


@pytest.mark.parametrize('facts, exclude, words', [
    (['eth0'], [], 'expected ansible_facts'),
    (FACTS, 'docker*', 'must be a list'),
    (FACTS, [1], 'must be a list'),
])
def test_bad_input_is_named(facts, exclude, words):
    with pytest.raises(AnsibleFilterError, match=words):
        host_addresses(facts, exclude)
