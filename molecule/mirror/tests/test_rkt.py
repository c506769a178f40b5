"""The mirrored and the converted image, fetched by the real rkt under the main registry's name."""

import os

import pytest

from ansible_collections.aci.registry.plugins.module_utils import aci
from conftest import rkt_image_id

STATE = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'state', 'main', 'build')
DOMAIN = 'aci-mirror'
IMAGES = [('mirror/etcd', 'v3.2.9'), ('docker/hello', '2.0')]


@pytest.fixture(scope='module')
def rkt(hosts_in, rkt_on):
    return rkt_on(hosts_in('aci_clients')[0], '/var/tmp/rkt-mirror')


@pytest.mark.parametrize('path, version', IMAGES)
def test_rkt_fetches_by_version_and_latest(rkt, path, version):
    built = rkt_image_id(aci.image_id(os.path.join(STATE, path, '%s-linux-amd64.aci' % version)))
    for name in ('%s/%s:%s' % (DOMAIN, path, version), '%s/%s' % (DOMAIN, path)):
        result = rkt.fetch(name)
        assert result.rc == 0, '%s: %s' % (name, result.stderr)
        assert result.stdout.strip() == built
    assert rkt.image_list().get('%s/%s:%s' % (DOMAIN, path, version)) == built
