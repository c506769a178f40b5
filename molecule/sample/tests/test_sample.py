"""The sample inventory, copied unchanged and run over SSH as a non-root user with sudo: the
registry serves, the client fetches and runs with the real rkt, and the controller's state is
where the sample says it is."""

import filecmp
import os
import subprocess

import pytest

EPHEMERAL = os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', '')
PROJECT = os.environ.get('MOLECULE_PROJECT_DIRECTORY', '')
DOMAIN = 'registry.example.com'
# The guide's controller home: its state in the default place, and the one of its AWX-like job.
GUIDE_STATE = os.path.join(EPHEMERAL, 'gh', '.local', 'state', 'aci-registry', DOMAIN)
JOB_STATE = os.path.join(EPHEMERAL, 'gh', 'job-state', 'aci-registry', DOMAIN)


def secret_keys(gnupghome):
    """``[(fingerprint, user id)]`` of the secret keys in ``gnupghome`` (sign-only keys: one of each)."""
    listed = subprocess.run(['gpg', '--homedir', gnupghome, '--with-colons', '--list-secret-keys'],
                            capture_output=True, text=True, check=True).stdout
    fields = [line.split(':') for line in listed.splitlines()]
    return list(zip([f[9] for f in fields if f[0] == 'fpr'], [f[9] for f in fields if f[0] == 'uid']))


@pytest.fixture(scope='module')
def registry(hosts_in):
    return hosts_in('registries')[0]


@pytest.fixture(scope='module')
def client(hosts_in):
    return hosts_in('clients')[0]


def test_the_inventory_ran_as_copied():
    compared = filecmp.dircmp(os.path.join(PROJECT, 'playbooks', 'inventory'), os.path.join(EPHEMERAL, 'fleet'))
    assert not (compared.left_only or compared.right_only or compared.diff_files)
    for sub in compared.subdirs.values():
        assert not (sub.left_only or sub.right_only or sub.diff_files)


def test_logins_were_deploy_not_root(registry, client):
    for host in (registry, client):
        log = host.check_output('journalctl -q -u ssh.service --no-pager')
        assert 'Accepted publickey for deploy' in log
        assert 'for root' not in log
        assert host.user('deploy').uid != 0


def test_what_needs_root_is_roots(registry):
    key = registry.file('/etc/aci-registry/tls/server.key')
    assert (key.user, key.group, key.mode) == ('root', 'root', 0o600)
    assert registry.service('aci-registry').is_running
    assert registry.file('/srv/aci-registry/app1/v0.0.2-linux-amd64.aci').user == 'root'


def test_state_is_in_the_default_place():
    state = os.path.join(EPHEMERAL, 'xdg-state', 'aci-registry', DOMAIN)
    assert oct(os.stat(state).st_mode & 0o777) == '0o700'
    # .lock.guard stays (it is only ever flocked); .lock is gone once the run released it.
    assert sorted(os.listdir(state)) == ['.lock.guard', 'build', 'gnupg', 'pki']
    assert not os.path.exists(os.path.join(EPHEMERAL, 'fleet', 'aci-registry-state'))


def test_rkt_fetches_and_runs_the_sample_images(client, rkt_on):
    rkt = rkt_on(client, '/var/tmp/rkt-sample')
    for name in ('%s/app1:v0.0.1' % DOMAIN, '%s/app1' % DOMAIN):
        fetched = rkt.fetch(name)
        assert fetched.rc == 0, fetched.stderr
        assert 'signature verified' in fetched.stderr
    assert sorted(rkt.image_list()) == ['%s/app1:v0.0.1' % DOMAIN, '%s/app1:v0.0.2' % DOMAIN]
    ran = rkt.run_app('%s/app1:v0.0.2' % DOMAIN)
    assert ran.rc == 0, ran.stderr
    assert 'hello' in ran.stdout


def test_the_guide_left_clients_trusting_its_rotated_key_alone(client):
    """docs/guide.md ended with a key rotation; its commands fetched every image it added."""
    rotated = [fpr for fpr, uid in secret_keys(os.path.join(GUIDE_STATE, 'gnupg')) if '2027' in uid][0]
    trusted = client.check_output('ls /etc/rkt/trustedkeys/prefix.d/%s' % DOMAIN).split()
    assert trusted == [rotated.lower()]


def test_the_guide_images_are_served(client, rkt_on):
    rkt = rkt_on(client, '/var/tmp/rkt-guide')
    for name in ('tools/hello:1.0', 'mirror/etcd:v3.2.9'):
        fetched = rkt.fetch('%s/%s' % (DOMAIN, name))
        assert fetched.rc == 0, fetched.stderr
    ran = rkt.run_app('%s/tools/hello:1.0' % DOMAIN)
    assert 'hello from tools/hello' in ran.stdout, ran.stderr


def test_a_job_with_an_empty_state_kept_the_vaulted_ca_and_key(client):
    """The guide's last run (its AWX section) had an empty state directory and the CA and the
    signing key from the vault: the new state holds the same CA and key, and clients trust that CA."""
    with open(os.path.join(GUIDE_STATE, 'pki', 'ca.pem')) as f:
        ca = f.read()
    with open(os.path.join(JOB_STATE, 'pki', 'ca.pem')) as f:
        assert f.read() == ca
    installed = client.check_output('cat /usr/local/share/ca-certificates/aci-registry-ca.crt')
    assert installed.strip() == ca.strip()
    assert [uid for fpr, uid in secret_keys(os.path.join(JOB_STATE, 'gnupg'))] == [
        'Example Corp ACI signing key 2027 <aci@example.com>']
