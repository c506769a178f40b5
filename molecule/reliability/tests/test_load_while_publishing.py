"""Issue 14, "load while publishing": a bounded load (load_client.py, run in the client) while
site.yml publishes a new version (latest moves) and drops the old one: first on one registry, then
on two replicas behind one name, one registry at a time (serial 1). No 5xx, every image matches
its signature, no page names a file that 404s (except a version being removed, after its
removal); counts and latencies are figures."""

import json
import os
import subprocess
import time

import figures

from conftest import name_pointed_at

DOMAIN = 'registry.reliability.test'
CLIENT_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'load_client.py')
# SECONDS bounds the load; it stops 2 s after the publish ends. A publish under this load takes
# 2-8 minutes on a busy 2-core machine; a load that ends before the publish fails the test.
THREADS, SECONDS = 4, 900
# load_client.py's name for a latest pair fetched across the alias move (each half intact).
STRADDLED = 'latest: signature and image from either side of the alias move'


def new_images(ephemeral, version):
    """``version`` of app, alone: latest moves to it and every other version goes."""
    rootfs = os.path.join(ephemeral, 'rootfs', 'app-' + version)
    os.makedirs(os.path.join(rootfs, 'bin'), exist_ok=True)
    with open(os.path.join(rootfs, 'bin', 'hello'), 'w') as f:
        f.write('#!/bin/sh\necho hello from app-%s\n' % version)
    os.chmod(os.path.join(rootfs, 'bin', 'hello'), 0o755)
    return [{'name': 'app', 'version': version, 'rootfs': rootfs,
             'manifest': {'exec': ['/bin/hello'], 'user': '0', 'group': '0'}}]


def site(version, *options):
    extra = json.dumps({'aci_registry_images': new_images(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], version)})
    return subprocess.run(['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'], 'aci.registry.site',
                           '-e', extra] + list(options), capture_output=True, text=True, timeout=600, check=False)


def under_load(client, client_name, version, removed, replicas=(), options=()):
    """site.yml publishing ``version`` while the client loads the registry; the load's summary."""
    subprocess.run(['podman', 'cp', CLIENT_SCRIPT, '%s:/tmp/load_client.py' % client_name], check=True)
    client.run_expect([0], 'rm -f /tmp/load-stop')
    trace = ['-e', 'LOAD_TRACE=' + os.environ['LOAD_TRACE'] + '-' + version] if os.environ.get('LOAD_TRACE') else []
    command = ['podman', 'exec'] + trace + [client_name, 'python3', '/tmp/load_client.py',
                                            'https://%s' % DOMAIN, str(THREADS), str(SECONDS), removed,
                                            ','.join(replicas)]
    load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    publish = site(version, *options)
    time.sleep(2)
    client.run_expect([0], 'touch /tmp/load-stop')
    out, stderr = load.communicate(timeout=120)
    assert publish.returncode == 0, publish.stdout[-3000:] + publish.stderr[-2000:]
    assert load.returncode == 0, stderr
    result = json.loads(out)
    assert 'fatal' not in result, result
    assert result['stopped'], 'the load hit its %d s bound before the publish ended: raise SECONDS' % SECONDS
    return result


def record(section, result):
    figures.record(section, 'requests', result['requests'])
    figures.record(section, 'images checked against signature', result['images'])
    for kind, n in sorted(result['errors'].items()):
        figures.record(section, 'errors: %s' % kind, n, ok=False)
    if not result['errors']:
        figures.record(section, 'errors', 0)
    for kind, n in sorted(result['allowed'].items()):
        figures.record(section, kind, n)
    figures.record(section, 'p50 latency', round(result['p50'] * 1000, 1), 'ms')
    figures.record(section, 'p99 latency', round(result['p99'] * 1000, 1), 'ms')


def test_load_while_publishing(hosts_in, groups):
    client = hosts_in('aci_clients')[0]
    with name_pointed_at(client, DOMAIN, groups['aci_registries'][0]):
        done = site('v0.0.1')
        assert done.returncode == 0, done.stdout[-3000:]
        result = under_load(client, groups['aci_clients'][0], 'v0.0.2', 'v0.0.1')
    record('load while publishing', result)
    assert result['images'] > 0
    assert result['errors'] == {}, json.dumps([result['errors'], result['mismatches']], indent=1)
    assert result['verified'] == result['images'] - result['allowed'].get(STRADDLED, 0)


def test_two_replicas_rolling_one_at_a_time(hosts_in, groups):
    client = hosts_in('aci_clients')[0]
    replicas = [client.check_output('getent ahostsv4 %s | head -1 | cut -d" " -f1' % name)
                for name in groups['aci_registries']]
    done = site('v0.0.2')
    assert done.returncode == 0, done.stdout[-3000:]
    result = under_load(client, groups['aci_clients'][0], 'v0.0.3', 'v0.0.2', replicas, ['-e', 'aci_registry_serial=1'])
    record('two replicas, serial 1', result)
    assert result['images'] > 0
    assert result['errors'] == {}, json.dumps([result['errors'], result['mismatches']], indent=1)
    assert result['verified'] == result['images'] - result['allowed'].get(STRADDLED, 0)
