"""Issue 14, "load while publishing": a bounded load on one registry (load_client.py, run in the
client) while site.yml publishes a new version (latest moves) and drops the old one. No 5xx, every
image matches its signature, no discovery page names a file that 404s; counts and latencies are
figures."""

import json
import os
import subprocess
import time

import figures

from conftest import name_pointed_at

DOMAIN = 'registry.reliability.test'
CLIENT_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'load_client.py')
# SECONDS bounds the load; it stops 2 s after the publish ends.
THREADS, SECONDS = 4, 400


def new_images(ephemeral):
    """v0.0.2 replaces v0.0.1 (the converge's only image): latest moves and a version goes."""
    rootfs = os.path.join(ephemeral, 'rootfs', 'app-v0.0.2')
    os.makedirs(os.path.join(rootfs, 'bin'), exist_ok=True)
    with open(os.path.join(rootfs, 'bin', 'hello'), 'w') as f:
        f.write('#!/bin/sh\necho hello from app-v0.0.2\n')
    os.chmod(os.path.join(rootfs, 'bin', 'hello'), 0o755)
    return [{'name': 'app', 'version': 'v0.0.2', 'rootfs': rootfs,
             'manifest': {'exec': ['/bin/hello'], 'user': '0', 'group': '0'}}]


def test_load_while_publishing(hosts_in, groups):
    client = hosts_in('aci_clients')[0]
    client_name, registry_name = groups['aci_clients'][0], groups['aci_registries'][0]
    subprocess.run(['podman', 'cp', CLIENT_SCRIPT, '%s:/tmp/load_client.py' % client_name], check=True)
    client.run_expect([0], 'rm -f /tmp/load-stop')
    extra = json.dumps({'aci_registry_images': new_images(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'])})
    with name_pointed_at(client, DOMAIN, registry_name):
        load = subprocess.Popen(['podman', 'exec', client_name, 'python3', '/tmp/load_client.py',
                                 'https://%s' % DOMAIN, str(THREADS), str(SECONDS)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        publish = subprocess.run(['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'],
                                  'aci.registry.site', '-e', extra],
                                 capture_output=True, text=True, timeout=600, check=False)
        time.sleep(2)
        client.run_expect([0], 'touch /tmp/load-stop')
        out, stderr = load.communicate(timeout=120)
    assert publish.returncode == 0, publish.stdout[-3000:] + publish.stderr[-2000:]
    assert load.returncode == 0, stderr
    result = json.loads(out)
    assert 'fatal' not in result, result
    errors = result['errors']
    figures.record('load while publishing', 'requests', result['requests'])
    figures.record('load while publishing', 'images checked against signature', result['images'])
    for kind, n in sorted(errors.items()):
        figures.record('load while publishing', 'errors: %s' % kind, n, ok=False)
    if not errors:
        figures.record('load while publishing', 'errors', 0)
    figures.record('load while publishing', 'p50 latency', round(result['p50'] * 1000, 1), 'ms')
    figures.record('load while publishing', 'p99 latency', round(result['p99'] * 1000, 1), 'ms')
    assert result['images'] > 0
    assert errors == {}, errors
    assert result['verified'] == result['images']
