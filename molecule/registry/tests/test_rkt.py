"""What a user sees with the real rkt on a client set up only by the collection's roles:
discovery, download and signature checks with no prompt, from each replica, and an image run."""

import os

import pytest

from ansible_collections.aci.registry.plugins.module_utils import gpg

from conftest import name_pointed_at, rkt_image_id
from test_fleet import DOMAIN, IMAGES, built_image_id

KEY_DIR = '/etc/rkt/trustedkeys/prefix.d/%s' % DOMAIN
ROTATED_FROM = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'rotated-from')


@pytest.fixture(scope='module')
def client(hosts_in):
    return hosts_in('aci_clients')[0]


@pytest.fixture(scope='module', params=['aci-reg1', 'aci-reg2'])
def replica(request, client, rkt_on):
    """The registry's name pointed at one replica, and an empty rkt store for it."""
    with name_pointed_at(client, DOMAIN, request.param):
        yield request.param, rkt_on(client, '/var/tmp/rkt-%s' % request.param)


@pytest.fixture(scope='module')
def fetched(replica):
    """Every published image fetched by name:version and the bare names (latest) from one replica."""
    name, rkt = replica
    results = {}
    for path, version in IMAGES:
        results['%s:%s' % (path, version)] = rkt.fetch('%s/%s:%s' % (DOMAIN, path, version))
    for path in sorted(set(p for p, v in IMAGES)):
        results[path] = rkt.fetch('%s/%s' % (DOMAIN, path))
    return name, rkt, results


@pytest.mark.parametrize('path, version', IMAGES)
def test_rkt_fetches_every_image_verified(fetched, path, version):
    name, rkt, results = fetched
    result = results['%s:%s' % (path, version)]
    assert result.rc == 0, '%s: %s' % (name, result.stderr)
    assert result.stdout.strip() == rkt_image_id(built_image_id(path, version))
    assert 'signature verified' in result.stderr


def test_rkt_fetches_latest_without_a_version(fetched):
    name, rkt, results = fetched
    newest = {'app': 'v0.0.2', 'app1': 'v1.0.0', 'team/tool': '1.0', 'curl': 'v1'}
    for path, version in newest.items():
        assert results[path].rc == 0, '%s %s: %s' % (name, path, results[path].stderr)
        assert results[path].stdout.strip() == rkt_image_id(built_image_id(path, version))


def test_rkt_image_list_shows_every_image(fetched):
    name, rkt, results = fetched
    listed = rkt.image_list()
    for path, version in IMAGES:
        assert listed.get('%s/%s:%s' % (DOMAIN, path, version)) == rkt_image_id(built_image_id(path, version)), \
            listed


def test_app_and_app1_are_different_images_to_rkt(fetched):
    name, rkt, results = fetched
    app, app1 = results['app:v0.0.1'].stdout.strip(), results['app1:v1.0.0'].stdout.strip()
    assert app.startswith('sha512-') and app1.startswith('sha512-') and app != app1


def test_rkt_runs_bash_built_from_the_controllers_programs(replica):
    name, rkt = replica
    result = rkt.run_app('%s/app1:v1.0.0' % DOMAIN)
    assert result.rc == 0, result.stderr
    assert 'hello from app1-v1.0.0' in result.stdout.splitlines(), result.stdout


def test_rkt_runs_curl_with_its_tls_libraries(replica):
    name, rkt = replica
    result = rkt.run_app('%s/curl:v1' % DOMAIN)
    assert result.rc == 0, result.stderr
    assert result.stdout.startswith('curl ') and 'OpenSSL' in result.stdout, result.stdout


def test_rkt_refuses_a_tampered_image(replica, hosts_in, client, rkt_on):
    name = replica[0]
    rkt = rkt_on(client, '/var/tmp/rkt-tampered-%s' % name)
    server = [h for h in hosts_in('aci_registries') if h.backend.name == name][0]
    image = '/srv/aci-registry/app/v0.0.1-linux-amd64.aci'
    server.run_expect([0], 'cp -p %s /root/pristine.aci && printf "\\x00" | dd of=%s bs=1 seek=100 conv=notrunc'
                      % (image, image))
    try:
        result = rkt.fetch('%s/app:v0.0.1' % DOMAIN)
    finally:
        server.run_expect([0], 'mv /root/pristine.aci %s' % image)
    assert result.rc != 0
    assert 'signature' in result.stderr, result.stderr
    assert rkt_image_id(built_image_id('app', 'v0.0.1')) not in rkt.image_list().values()


def test_only_the_new_key_is_trusted_after_rotation(hosts_in, client):
    """side_effect replaced the signing key; the fetches above used only the new one."""
    with open(ROTATED_FROM) as f:
        old = f.read().split()
    published = hosts_in('aci_registries')[0].file('/srv/aci-registry/pubkeys.gpg').content_string
    keys = gpg.read_public_keys(published)
    assert len(keys) == 1 and keys[0]['rkt_problem'] is None
    new = keys[0]['fingerprint'].lower()
    assert len(old) == 1 and old[0] != new
    assert client.check_output('ls -A %s' % KEY_DIR).split() == [new]
