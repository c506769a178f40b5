"""A mirrored upstream image, served by the main registry and fetched verified by a client."""

import hashlib
import json
import os
import subprocess

from ansible_collections.aci.registry.plugins.module_utils import aci

STATE = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'state')
DOMAIN = 'aci-mirror'


def aci_fetch(client, name, dest):
    """Run aci.registry.aci_fetch on the client with the key rkt_client trusted, as a playbook would."""
    key_dir = '/etc/rkt/trustedkeys/prefix.d/%s' % DOMAIN
    key = client.check_output('ls %s' % key_dir).split()[0]
    params = json.dumps(dict(name=name, dest=dest, trusted_key_path='%s/%s' % (key_dir, key)))
    proc = subprocess.run(['ansible', 'aci-mirror-client', '-i', os.environ['MOLECULE_INVENTORY_FILE'], '-o',
                           '-m', 'aci.registry.aci_fetch', '-a', params],
                          capture_output=True, text=True, timeout=120, check=False)
    out = proc.stdout.split('=>', 1)[-1].strip()
    return proc.returncode, json.loads(out) if out.startswith('{') else {'msg': proc.stdout + proc.stderr}


def entries(path):
    """Every entry of an ACI but its manifest, with its content digest, read with the collection's reader."""
    seen = {}
    for entry in aci.iter_entries(path):
        if entry.name != 'manifest':
            data = entry.reader.read() if entry.reader is not None else b''
            seen[entry.name] = (entry.kind, entry.mode, entry.uid, entry.gid, entry.mtime, entry.linkname,
                                hashlib.sha256(data).hexdigest())
    return seen


def test_mirrored_image_fetches_verified_under_the_local_name(hosts_in):
    rc, result = aci_fetch(hosts_in('aci_clients')[0], '%s/mirror/etcd:v3.2.9' % DOMAIN, '/tmp/etcd.aci')
    assert rc == 0, result.get('msg')
    assert result['name'] == '%s/mirror/etcd' % DOMAIN
    labels = dict((label['name'], label['value']) for label in result['manifest']['labels'])
    assert labels == {'version': 'v3.2.9', 'os': 'linux', 'arch': 'amd64'}


def test_image_content_is_unchanged():
    upstream = os.path.join(STATE, 'main', 'build', 'upstream', 'localhost_coreos_etcd_v3.2.9-linux-amd64.aci')
    mirrored = os.path.join(STATE, 'main', 'build', 'mirror', 'etcd', 'v3.2.9-linux-amd64.aci')
    assert entries(upstream) == entries(mirrored)


def test_tampered_upstream_image_was_not_published(hosts_in):
    registry = hosts_in('aci_registries')[0]
    assert not registry.file('/srv/aci-registry/mirror/tampered').exists
    assert 'tampered' not in registry.file('/srv/aci-registry/index.html').content_string


def test_converted_docker_image_fetches_verified(hosts_in):
    rc, result = aci_fetch(hosts_in('aci_clients')[0], '%s/docker/hello:2.0' % DOMAIN, '/tmp/hello.aci')
    assert rc == 0, result.get('msg')
    app = result['manifest']['app']
    assert app['exec'] == ['/bin/hello', '--greet']
    assert app['workingDirectory'] == '/srv'
    assert {'name': 'GREETING', 'value': 'hi'} in app['environment']
    assert [p['port'] for p in app['ports']] == [8080]


def test_converted_rootfs_is_what_the_layers_describe():
    seen = entries(os.path.join(STATE, 'main', 'build', 'docker', 'hello', '2.0-linux-amd64.aci'))
    assert 'rootfs/etc/motd' not in seen and 'rootfs/etc/.wh.motd' not in seen
    assert seen['rootfs/bin/hello'][-1] == hashlib.sha256(b'#!/bin/sh\necho hello from a docker image\n').hexdigest()
