"""Shared testinfra setup for every molecule scenario.

Tests talk to the containers directly as ``podman://NAME`` (about ten times faster than going
through the Ansible connection); the names and groups come from molecule's own inventory.
"""

import contextlib
import os
import sys

import pytest
import testinfra
import yaml


# The reliability suite's figures table (tests/reliability/figures.py), for tests that measure.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tests', 'reliability'))

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


@contextlib.contextmanager
def name_pointed_at(client, name, host):
    """Within the block, ``name`` resolves on ``client`` to the address of ``host``, as DNS or a
    load balancer in front of registry replicas would make it."""
    address = client.check_output('getent ahostsv4 %s | head -1 | cut -d" " -f1' % host)
    # /etc/hosts is a bind mount in the container: rewrite it in place rather than rename over it.
    drop = "grep -v ' %s$' /etc/hosts > /tmp/hosts; cat /tmp/hosts > /etc/hosts" % name
    client.run_expect([0], "%s; echo '%s %s' >> /etc/hosts" % (drop, address, name))
    try:
        yield address
    finally:
        client.run(drop)


# --- the real rkt, installed on clients by rkt_client ----------------------------------------

RKT_PATH = '/usr/local/bin/rkt'
STAGE1_PATH = '/usr/local/lib/rkt/stage1-fly.aci'
STAGE1_NAME = 'coreos.com/rkt/stage1-fly:1.30.0'


def rkt_image_id(image_id):
    """An image ID as rkt shows it with --full: its store keeps the first half of the SHA-512."""
    return image_id[:len('sha512-') + 64]


class Rkt:
    """rkt on a test host, with a store of its own so every fetch really downloads."""

    def __init__(self, host, store):
        self.host = host
        self.store = store
        host.run_expect([0], 'rm -rf %s && mkdir -p %s' % (store, store))

    def __call__(self, *args, timeout=120):
        # No tty and no stdin: rkt cannot ask about keys, so an untrusted key is a failure.
        cmd = 'timeout %d %s --dir=%s %s </dev/null' % (timeout, RKT_PATH, self.store, ' '.join(args))
        return self.host.run(cmd)

    def fetch(self, name):
        """``rkt fetch --full``: stdout is the image ID as :func:`rkt_image_id` gives it."""
        return self('fetch', '--full', name)

    def image_list(self):
        """``{name:version: full image ID}`` of the images in this store."""
        listed = self('image', 'list', '--full', '--no-legend', '--fields=id,name')
        assert listed.rc == 0, listed.stderr
        return dict(reversed(line.split(None, 1)) for line in listed.stdout.splitlines() if line.strip())

    def run_app(self, name):
        """``rkt run`` on stage1-fly; the root is overlayfs already, hence --no-overlay."""
        if not self.host.file(self.store + '/.stage1').exists:
            # rkt's own build leaves stage1 images unsigned: the one import without a signature check.
            imported = self('fetch', '--insecure-options=image', STAGE1_PATH)
            assert imported.rc == 0, imported.stderr
            self.host.run_expect([0], 'touch %s/.stage1' % self.store)
        return self('run', '--no-overlay', '--stage1-name=%s' % STAGE1_NAME, name)


@pytest.fixture(scope='session')
def rkt_on():
    """``rkt_on(host, store)`` gives an :class:`Rkt`. RKT (set by make when ../shared/rkt has
    rkt) means the real client is part of this run: then a client without it is a failure."""
    if not os.environ.get('RKT'):
        pytest.skip('the real rkt is not part of this run: set RKT=/path/to/rkt and RKT_STAGE1=/path/to/stage1-fly.aci')

    def get(host, store):
        assert host.file(RKT_PATH).is_file, 'RKT is set, but rkt_client installed no rkt on %s' % host.backend.name
        assert host.file(STAGE1_PATH).is_file, 'RKT_STAGE1 is not installed on %s' % host.backend.name
        return Rkt(host, store)
    return get
