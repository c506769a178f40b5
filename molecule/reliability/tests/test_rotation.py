"""Issue 14, "key rotation without an outage": the inventory names a new signing key, then the CA is
replaced, and one site.yml run (registries one at a time) rolls each out while the real rkt on the
client fetches in a loop from both replicas in turn. Not one fetch may fail; afterwards the client
trusts the new key or CA alone."""

import json
import os
import shutil
import subprocess
import time

import figures
import pytest

DOMAIN = 'registry.reliability.test'
IMAGE = DOMAIN + '/app:v0.0.1'
LOOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'rkt_loop.py')
STOP = '/tmp/rkt-loop-stop'
# Bounds the loop: it stops when the run is over, long before this.
SECONDS = 600
TRUSTED_KEYS = '/etc/rkt/trustedkeys/prefix.d/' + DOMAIN
CA_DIR = '/usr/local/share/ca-certificates'


def site(*extra):
    args = ['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'], 'aci.registry.site',
            '-e', 'aci_registry_serial=1']
    for value in extra:
        args += ['-e', json.dumps(value)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope='module')
def fleet(hosts_in, groups):
    client = hosts_in('aci_clients')[0]
    client_name = groups['aci_clients'][0]
    addresses = [client.check_output('getent ahostsv4 %s | head -1 | cut -d" " -f1' % name)
                 for name in groups['aci_registries']]
    subprocess.run(['podman', 'cp', LOOP, '%s:/tmp/rkt_loop.py' % client_name], check=True)
    # What the inventory says, whatever earlier tests published.
    site()
    yield client, client_name, addresses
    client.run("grep -v ' %s$' /etc/hosts > /tmp/hosts; cat /tmp/hosts > /etc/hosts" % DOMAIN)


def under_rkt_loop(fleet, *extra):
    """site.yml with ``extra`` while rkt fetches in a loop; the loop's summary and the run's time."""
    client, client_name, addresses = fleet
    client.run_expect([0], 'rm -f %s' % STOP)
    loop = subprocess.Popen(['podman', 'exec', client_name, 'python3', '/tmp/rkt_loop.py', IMAGE, STOP,
                             str(SECONDS), DOMAIN] + addresses, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        # The loop must be fetching before anything changes.
        time.sleep(5)
        site(*extra)
        took = time.monotonic() - started
        time.sleep(3)
    finally:
        client.run('touch %s' % STOP)
        out, err = loop.communicate(timeout=180)
    assert loop.returncode == 0, err
    return json.loads(out), took


def trusted_fingerprints(client):
    return sorted(client.check_output('ls %s' % TRUSTED_KEYS).split())


# The key the rotation test moves to; the CA test keeps it, so that only the CA changes there.
NEW_KEY = {'aci_registry_signing_key': {'name_real': 'aci.registry reliability signer 2', 'algorithm': 'rsa2048'}}


def rotated(fleet, what):
    """site.yml with NEW_KEY under the rkt loop; its figures are recorded as ``what``; no fetch failed."""
    summary, took = under_rkt_loop(fleet, NEW_KEY)
    figures.record('key rotation', '%s: rkt fetches during the run' % what, summary['passes'])
    figures.record('key rotation', '%s: failed fetches' % what, len(summary['failures']), ok=not summary['failures'])
    figures.record('key rotation', '%s: run (serial 1, 2 replicas)' % what, round(took, 1), 's')
    assert summary['failures'] == [], summary['failures'][:3]
    assert summary['passes'] >= 5, summary
    return summary


def test_signing_key_rotation_without_a_failed_fetch(fleet):
    client = fleet[0]
    before = trusted_fingerprints(client)
    assert len(before) == 1
    summary = rotated(fleet, 'signing key')
    # The loop saw the old signer and then the new one: it ran across the switch.
    assert set(summary['signers']) == {'aci.registry reliability signer', 'aci.registry reliability signer 2'}, summary
    after = trusted_fingerprints(client)
    assert len(after) == 1 and after != before


def test_ca_rotation_without_a_failed_fetch(fleet):
    client = fleet[0]
    pki = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'state', 'pki')
    old = open(os.path.join(pki, 'ca.pem')).read()
    # A CA kept in the state directory is replaced by moving it away: the next run makes a new one.
    retired = os.path.join(pki, 'retired')
    os.makedirs(retired, exist_ok=True)
    for name in ('ca.pem', 'ca.key'):
        shutil.move(os.path.join(pki, name), os.path.join(retired, name))
    rotated(fleet, 'CA')
    new = open(os.path.join(pki, 'ca.pem')).read()
    assert new != old
    # Only the new CA is trusted, under its usual name; the staged copy is gone.
    assert client.file('%s/aci-registry-ca.crt' % CA_DIR).content_string == new
    assert not client.file('%s/aci-registry-ca-next.crt' % CA_DIR).exists
    bundle = client.file('/etc/ssl/certs/ca-certificates.crt').content_string
    assert new.strip() in bundle and old.strip() not in bundle
