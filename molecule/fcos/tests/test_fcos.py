"""A Fedora-CoreOS-like host made a registry by site.yml alone, and the real rkt on a Debian client
fetching and running every image from it."""

import json
import os
import subprocess

import pytest

from conftest import name_pointed_at, rkt_image_id

DOMAIN = 'registry.fcos.test'
REGISTRY = 'aci-fcos-reg'
STATE = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'state')
EXTRA_CA = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'extra-ca')
IMAGES = [('app', 'v0.0.1'), ('app1', 'v1.0.0')]
PYTHON = '/opt/aci-registry/python/bin/python3'
# Fedora's: update-ca-trust writes the PEM bundle, ca-bundle.crt links to it.
BUNDLE = '/etc/pki/tls/certs/ca-bundle.crt'
EXTRACTED = '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'
ANCHORS = '/etc/pki/ca-trust/source/anchors'


def built_image_id(path, version):
    """The image ID of what the controller built, read with the collection's own reader."""
    from ansible_collections.aci.registry.plugins.module_utils import aci
    return aci.image_id(os.path.join(STATE, 'build', path, '%s-linux-amd64.aci' % version))


def pem_body(text):
    """A certificate's base64 lines, whatever the line endings or the text around it."""
    lines = text.strip().splitlines()
    return ''.join(line.strip() for line in lines if line and not line.startswith('-----'))


@pytest.fixture(scope='module')
def registry(hosts_in):
    return [h for h in hosts_in('aci_registries') if h.backend.name == REGISTRY][0]


@pytest.fixture(scope='module')
def client(hosts_in):
    return [h for h in hosts_in('aci_clients') if h.backend.name != REGISTRY][0]


def test_the_host_is_fedora_coreos_like(registry):
    release = registry.file('/etc/os-release').content_string.splitlines()
    assert 'ID=fedora' in release and 'VARIANT_ID=coreos' in release
    assert not registry.exists('python3') and not registry.exists('apt-get') and not registry.exists('dpkg')
    assert not registry.exists('dnf') and not registry.exists('yum')
    assert registry.run('touch /usr/aci-write-test').rc != 0, '/usr is writable'
    assert 'ro' in registry.check_output('findmnt -n -o OPTIONS /usr').split(',')


def test_ansible_sees_fedora_and_an_image_based_host():
    """What the roles choose by: ansible-core's own facts, gathered as a play would."""
    out = subprocess.run(
        ['ansible', 'all', '-i', '%s,' % REGISTRY, '-c', 'containers.podman.podman', '-o',
         '-e', 'ansible_python_interpreter=%s' % PYTHON, '-m', 'ansible.builtin.setup',
         '-a', 'gather_subset=!all,!min,distribution,pkg_mgr'],
        capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    facts = json.loads(out.stdout.split('=>', 1)[1])['ansible_facts']
    assert facts['ansible_distribution'] == 'Fedora'
    assert facts['ansible_os_family'] == 'RedHat'
    assert facts['ansible_pkg_mgr'] == 'atomic_container'


def test_bootstrap_left_one_python_with_what_the_modules_need(registry):
    link = registry.file('/opt/aci-registry/python')
    assert link.is_symlink
    # One copy, the one the link names: no older copy and no half-unpacked one left.
    entries = sorted(registry.check_output('ls -A /opt/aci-registry').split())
    assert entries == sorted(['python', os.path.basename(link.linked_to)])
    version = registry.check_output('%s -c "import cryptography, gnupg, sys; print(sys.version_info[:2])"' % PYTHON)
    assert version == '(3, 11)'


def test_the_registry_ca_is_an_anchor_and_in_the_bundle(registry):
    ca = registry.file('%s/aci-registry-ca.pem' % ANCHORS)
    assert ca.is_file and ca.mode == 0o644
    assert pem_body(ca.content_string) in pem_body(registry.file(BUNDLE).content_string)
    assert registry.file(BUNDLE).linked_to == EXTRACTED
    # Debian's curl on this host reads its own path, a link to Fedora's bundle.
    assert registry.file('/etc/ssl/certs/ca-certificates.crt').linked_to == EXTRACTED


def test_a_removed_ca_leaves_no_anchor_or_bundle_entry(registry):
    bundle = pem_body(registry.file(BUNDLE).content_string)
    with open(os.path.join(EXTRA_CA, 'aci-fcos-kept.pem')) as f:
        assert pem_body(f.read()) in bundle
    with open(os.path.join(EXTRA_CA, 'aci-fcos-removed.pem')) as f:
        assert pem_body(f.read()) not in bundle
    assert not registry.file('%s/aci-fcos-removed.pem' % ANCHORS).exists


def test_the_host_itself_trusts_its_registry(registry):
    with name_pointed_at(registry, DOMAIN, REGISTRY):
        page = registry.run('curl -sS --fail https://%s/' % DOMAIN)
    assert page.rc == 0, page.stderr
    assert 'app1' in page.stdout


def test_rkt_client_wrote_the_signing_key_on_the_fcos_host(registry):
    keys = registry.check_output('ls /etc/rkt/trustedkeys/prefix.d/%s' % DOMAIN).split()
    assert len(keys) == 1 and len(keys[0]) == 40


@pytest.fixture(scope='module')
def rkt(client, rkt_on):
    with name_pointed_at(client, DOMAIN, REGISTRY):
        yield rkt_on(client, '/var/tmp/rkt-fcos')


@pytest.mark.parametrize('path, version', IMAGES)
def test_rkt_fetches_every_image_from_the_fcos_registry_verified(rkt, path, version):
    fetched = rkt.fetch('%s/%s:%s' % (DOMAIN, path, version))
    assert fetched.rc == 0, fetched.stderr
    assert fetched.stdout.strip() == rkt_image_id(built_image_id(path, version))
    assert 'signature verified' in fetched.stderr


def test_rkt_runs_an_image_from_the_fcos_registry(rkt):
    # app1 is bash and its libraries from the controller (app's /bin/hello needs a /bin/sh it lacks).
    ran = rkt.run_app('%s/app1:v1.0.0' % DOMAIN)
    assert ran.rc == 0, ran.stderr
    assert 'hello from app1-v1.0.0' in ran.stdout.splitlines(), ran.stdout
