"""What the pki role leaves behind: a CA on the controller, a key that never left its host, a
certificate the client trusts through its system store, and a renewal the listener picked up."""

import os
import stat

import pytest

KEY = '/etc/aci-registry/tls/server.key'
CERT = '/etc/aci-registry/tls/server.crt'
REGISTRY = 'aci-pki-registry'
PORT = 8443

PEER_FINGERPRINT = (
    'python3 -c "import hashlib, socket, ssl; '
    "ctx = ssl.create_default_context(); "
    "s = ctx.wrap_socket(socket.create_connection(('{addr}', %d), timeout=10), server_hostname='{name}'); "
    "print(hashlib.sha256(s.getpeercert(True)).hexdigest())\"" % PORT
)


@pytest.fixture(scope='module')
def registry(hosts_in):
    return hosts_in('aci_registries')[0]


@pytest.fixture(scope='module')
def client(hosts_in):
    return hosts_in('aci_clients')[0]


@pytest.fixture(scope='module')
def pki_dir():
    return os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'pki')


def fingerprint_of_file(host, path):
    out = host.check_output('openssl x509 -in %s -noout -fingerprint -sha256' % path)
    return out.split('=', 1)[1].replace(':', '').lower()


def test_client_verifies_served_certificate_through_system_store(client):
    # No -CAfile: only the system store (where ca_trust put the CA) can make this succeed.
    cmd = client.run(
        'openssl s_client -connect %s:%d -servername %s </dev/null 2>/dev/null | openssl x509 > /tmp/served.pem && '
        'openssl verify -verify_hostname %s /tmp/served.pem' % (REGISTRY, PORT, REGISTRY, REGISTRY))
    assert cmd.rc == 0 and cmd.stdout.strip().endswith('OK'), cmd.stdout + cmd.stderr


def test_python_default_context_trusts_the_listener_by_name(client, registry):
    cmd = client.run(PEER_FINGERPRINT.format(addr=REGISTRY, name=REGISTRY))
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.strip() == fingerprint_of_file(registry, CERT)


def test_python_default_context_trusts_the_listener_by_ip(client, registry):
    address = registry.check_output('hostname -I').split()[0]
    cmd = client.run(PEER_FINGERPRINT.format(addr=address, name=address))
    assert cmd.rc == 0, cmd.stderr


def test_certificate_names_the_host(registry):
    text = registry.check_output('openssl x509 -in %s -noout -ext subjectAltName' % CERT)
    address = registry.check_output('hostname -I').split()[0]
    for name in ('DNS:%s' % REGISTRY, 'DNS:registry.aci-pki.test', 'IP Address:%s' % address):
        assert name in text


def test_server_key_exists_only_on_the_registry(registry, client, pki_dir):
    key = registry.file(KEY)
    assert key.is_file and key.mode == 0o600 and key.user == 'root'
    assert not client.file(KEY).exists
    # Nothing on the controller holds it, nor any private key but the CA's.
    key_body = ''.join(line for line in registry.check_output('cat %s' % KEY).splitlines() if '-----' not in line)
    for root, dirs, names in os.walk(pki_dir):
        for name in names:
            with open(os.path.join(root, name)) as f:
                content = f.read()
            assert key_body not in content.replace('\n', '')
            assert 'PRIVATE KEY' not in content or name == 'ca.key'


def test_ca_key_stays_in_a_private_directory_on_the_controller(pki_dir, registry, client):
    assert stat.S_IMODE(os.stat(pki_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(pki_dir, 'ca.key')).st_mode) == 0o600
    for host in (registry, client):
        assert host.run('grep -rl "BEGIN.*PRIVATE KEY" /etc/aci-registry /usr/local/share/ca-certificates /root').stdout.split() \
            in ([], [KEY])


def test_renewal_reissued_kept_the_key_and_is_served(registry, client):
    before = registry.check_output('cat /root/pki-before.txt').splitlines()
    old_fingerprint = before[0].split('=', 1)[1].replace(':', '').lower()
    new_fingerprint = fingerprint_of_file(registry, CERT)
    assert new_fingerprint != old_fingerprint
    assert registry.check_output('openssl pkey -in %s -pubout | sha256sum' % KEY) == before[1]
    served = client.check_output(PEER_FINGERPRINT.format(addr=REGISTRY, name=REGISTRY))
    assert served.strip() == new_fingerprint
