"""The product end to end: a client fetches every image from each registry replica, verified."""

import glob
import json
import os
import subprocess

import pytest

from conftest import name_pointed_at

DOMAIN = 'registry.aci.test'
STATE = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'state')
IMAGES = [('app', 'v0.0.1'), ('app', 'v0.0.2'), ('app1', 'v1.0.0'), ('team/tool', '1.0'), ('curl', 'v1')]


def built_image_id(path, version):
    """The image ID of what the controller built, read with the collection's own reader."""
    from ansible_collections.aci.registry.plugins.module_utils import aci
    return aci.image_id(os.path.join(STATE, 'build', path, '%s-linux-amd64.aci' % version))


def trusted_key_path(client):
    keys = client.check_output('ls /etc/rkt/trustedkeys/prefix.d/%s' % DOMAIN).split()
    assert len(keys) == 1
    return '/etc/rkt/trustedkeys/prefix.d/%s/%s' % (DOMAIN, keys[0])


def aci_fetch(name, dest, key_path):
    """Run aci.registry.aci_fetch on the client, as a user's playbook would."""
    args = json.dumps(dict(name=name, dest=dest, trusted_key_path=key_path))
    proc = subprocess.run(
        ['ansible', 'aci-client', '-i', os.environ['MOLECULE_INVENTORY_FILE'], '-m', 'aci.registry.aci_fetch',
         '-a', args, '-o'], capture_output=True, text=True, timeout=120, check=False)
    out = proc.stdout.split('=>', 1)[-1].strip()
    return proc.returncode, json.loads(out) if out.startswith('{') else {'msg': proc.stdout + proc.stderr}


@pytest.fixture(scope='module')
def client(hosts_in):
    return hosts_in('aci_clients')[0]


@pytest.fixture(scope='module', params=['aci-reg1', 'aci-reg2'])
def registry(request, client):
    """Point the registry's name at one replica, as DNS or a load balancer would."""
    with name_pointed_at(client, DOMAIN, request.param):
        yield request.param


@pytest.mark.parametrize('path, version', IMAGES)
def test_every_image_fetches_verified_from_each_registry(client, registry, path, version):
    dest = '/tmp/%s-%s-%s.aci' % (registry, path.replace('/', '-'), version)
    rc, result = aci_fetch('%s/%s:%s' % (DOMAIN, path, version), dest, trusted_key_path(client))
    assert rc == 0, result.get('msg')
    assert result['image_id'] == built_image_id(path, version)
    assert result['aci_url'] == 'https://%s/%s/%s-linux-amd64.aci' % (DOMAIN, path, version)
    assert client.file(dest).is_file


def test_app_and_app1_resolve_to_their_own_images(client, registry):
    ids = {}
    for path, version in (('app', 'v0.0.1'), ('app1', 'v1.0.0')):
        rc, result = aci_fetch('%s/%s:%s' % (DOMAIN, path, version), '/tmp/own-%s.aci' % path, trusted_key_path(client))
        assert rc == 0, result.get('msg')
        assert result['name'] == '%s/%s' % (DOMAIN, path)
        ids[path] = result['image_id']
    assert ids['app'] != ids['app1']


def test_without_version_gets_latest(client, registry):
    rc, result = aci_fetch('%s/app' % DOMAIN, '/tmp/latest-app.aci', trusted_key_path(client))
    assert rc == 0, result.get('msg')
    assert result['version'] == 'v0.0.2' and result['image_id'] == built_image_id('app', 'v0.0.2')


def test_tampered_image_is_refused(client, registry, hosts_in):
    server = [h for h in hosts_in('aci_registries') if h.backend.name == registry][0]
    image = '/srv/aci-registry/app1/v1.0.0-linux-amd64.aci'
    server.run_expect([0], 'cp -p %s /root/pristine.aci && printf "\\x00" | dd of=%s bs=1 seek=100 conv=notrunc' % (image, image))
    try:
        rc, result = aci_fetch('%s/app1:v1.0.0' % DOMAIN, '/tmp/tampered.aci', trusted_key_path(client))
    finally:
        server.run_expect([0], 'mv /root/pristine.aci %s' % image)
    assert rc != 0
    assert 'signature check of' in result['msg'] and 'Nothing was written' in result['msg']
    assert not client.file('/tmp/tampered.aci').exists


def test_client_trusts_the_key_for_the_registry_prefix(client):
    path = trusted_key_path(client)
    fingerprint = os.path.basename(path)
    assert fingerprint == fingerprint.lower() and len(fingerprint) == 40
    assert client.file(path).content_string.startswith('-----BEGIN PGP PUBLIC KEY BLOCK-----')


def test_server_keys_never_left_their_hosts(hosts_in):
    # The controller's CA directory holds the CA key, requests and certificates: no server key.
    keys = glob.glob(os.path.join(STATE, 'pki', '**', '*.key'), recursive=True)
    assert [os.path.relpath(k, os.path.join(STATE, 'pki')) for k in keys] == ['ca.key']
    for registry in hosts_in('aci_registries'):
        assert registry.file('/etc/aci-registry/tls/server.key').mode == 0o600
