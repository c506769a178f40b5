"""Shared testinfra setup for every molecule scenario.

Tests talk to the containers directly as ``podman://NAME`` (about ten times faster than going
through the Ansible connection); the names and groups come from molecule's own inventory.
"""

import os
import sys

import pytest
import testinfra
import yaml


# Tests may use the collection's own code (e.g. its ACI reader) as the controller does.
for _path in reversed(os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep)):
    if _path and _path not in sys.path:
        sys.path.insert(0, _path)


def _walk(group, groups, name='all'):
    """Collect ``{group: [hosts]}`` from an Ansible YAML inventory, children included."""
    members = groups.setdefault(name, [])
    for host in (group or {}).get('hosts') or {}:
        if host not in members:
            members.append(host)
    for child, body in ((group or {}).get('children') or {}).items():
        for host in _walk(body, groups, child):
            if host not in members:
                members.append(host)
    return members


def molecule_groups():
    """``{group: [host names]}`` for the scenario under test."""
    path = os.environ.get('MOLECULE_INVENTORY_FILE')
    if not path or not os.path.exists(path):
        raise pytest.UsageError('MOLECULE_INVENTORY_FILE is not set: run these tests with `molecule verify`.')
    with open(path) as f:
        inventory = yaml.safe_load(f) or {}
    groups = {}
    _walk(inventory.get('all'), groups)
    for name, body in inventory.items():
        if name != 'all':
            _walk(body, groups, name)
    return groups


def pytest_configure(config):
    # Only when no --hosts was given: then every test taking `host` runs once per container.
    if not getattr(config.option, 'hosts', None) and os.environ.get('MOLECULE_INVENTORY_FILE'):
        config.option.hosts = ','.join('podman://%s' % h for h in molecule_groups()['all'])


@pytest.fixture(scope='session')
def groups():
    return molecule_groups()


@pytest.fixture(scope='session')
def hosts_in(groups):
    """``hosts_in('aci_clients')`` gives the testinfra hosts of an inventory group."""
    def get(group):
        names = groups.get(group)
        if not names:
            raise LookupError('no host in inventory group %r (groups: %s)' % (group, ', '.join(sorted(groups))))
        return [testinfra.get_host('podman://%s' % name) for name in names]
    return get
