# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci_replica_sync against a peer replica on loopback: real TLS for the registry's name, real gpg."""

import hashlib
import http.server
import os
import shutil
import socket
import stat
import tempfile

import pytest

from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.plugins.modules import aci_replica_sync
from ansible_collections.aci.registry.tests.unit.plugins.gpg_homes import kill_agent, new_home
from ansible_collections.aci.registry.tests.unit.plugins.https_server import make_pki, serve

pytestmark = pytest.mark.skipif(not (shutil.which('gpg') and g.HAS_GNUPG), reason='needs gpg and python-gnupg')

DOMAIN = 'registry.aci.test'
IMAGE = 'app/v1-linux-amd64.aci'


def sha1(data):
    return hashlib.sha1(data).hexdigest()


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    # The peer's certificate names the registry, not 127.0.0.1: the module must check it for that name.
    return make_pki(tmp_path_factory.mktemp('pki'), names=(DOMAIN,))


@pytest.fixture(scope='module')
def signer():
    root = tempfile.mkdtemp(prefix='rs', dir='/tmp')
    home = new_home(root, 'registry')
    gpg = g.open_home(home)
    fpr = g.generate_key(gpg, 'Registry signer', algorithm='rsa2048')
    yield dict(gpg=gpg, fpr=fpr, pubkey=g.export_public_key(gpg, fpr).encode())
    kill_agent(home)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def peer(tmp_path, pki, signer):
    """A peer web root holding the key, one image and its signature, served over HTTPS."""
    root = tmp_path / 'peer'
    (root / 'app').mkdir(parents=True)
    (root / IMAGE).write_bytes(os.urandom(300000))
    # As aci_sign signs: about 1 RSA signature in 200 is one byte short, which rkt (and the replica) refuse.
    sig, _fpr = g.sign_and_check(signer['gpg'], signer['fpr'], str(root / IMAGE))
    (root / (IMAGE + '.asc')).write_bytes(sig)
    (root / 'pubkeys.gpg').write_bytes(signer['pubkey'])
    with serve(root, pki) as server:
        yield dict(root=root, port=server.server_address[1], requests=server.requests, pki=pki)


NAMES = ('pubkeys.gpg', IMAGE + '.asc', IMAGE)


def listing(root):
    """What the controller lists: each file's checksum, and its size."""
    return (dict((n, sha1((root / n).read_bytes())) for n in NAMES),
            dict((n, (root / n).stat().st_size) for n in NAMES))


def sync_args(server, replica, **kw):
    replica.mkdir(exist_ok=True)
    args = dict(path=str(replica), peer='https://127.0.0.1:%d' % server['port'], server_name=DOMAIN,
                ca_path=str(server['pki'] / 'ca.pem'), mode='0644', timeout=5)
    args['checksums'], args['sizes'] = listing(server['root'])
    args.update(kw)
    return args


def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _dirs, fs in os.walk(root) for f in fs)


def test_takes_verified_files_and_is_idempotent(peer, tmp_path, run_module):
    replica = tmp_path / 'replica'
    args = sync_args(peer, replica)
    results = [run_module(aci_replica_sync.main, args, check_mode=check, expect_failure=False)
               for check in (True, False, True, False)]
    assert [r['changed'] for r in results] == [True, True, False, False]
    # The check run asks nothing of the peer; the real run asks for each file once, key and signature first.
    assert peer['requests'] == ['/pubkeys.gpg', '/' + IMAGE + '.asc', '/' + IMAGE]
    assert results[0]['fetched'] == ['pubkeys.gpg', IMAGE + '.asc', IMAGE]
    first = results[1]
    assert first['fetched'] == ['pubkeys.gpg', IMAGE + '.asc', IMAGE] and first['not_fetched'] == []
    assert first['signatures_checked'] == 1
    assert first['bytes'] == sum(args['sizes'].values())
    for name in ('pubkeys.gpg', IMAGE, IMAGE + '.asc'):
        assert (replica / name).read_bytes() == (peer['root'] / name).read_bytes()
        assert stat.S_IMODE((replica / name).stat().st_mode) == 0o644
    assert results[3]['fetched'] == [] and results[3]['bytes'] == 0


def test_only_what_differs_is_asked_for(peer, tmp_path, run_module):
    replica = tmp_path / 'replica'
    replica.mkdir()
    (replica / 'pubkeys.gpg').write_bytes((peer['root'] / 'pubkeys.gpg').read_bytes())
    (replica / 'app').mkdir()
    (replica / IMAGE).write_bytes(b'an older build under the same name')
    result = run_module(aci_replica_sync.main, sync_args(peer, replica), expect_failure=False)
    assert result['fetched'] == [IMAGE + '.asc', IMAGE]
    assert peer['requests'] == ['/' + IMAGE + '.asc', '/' + IMAGE]
    assert (replica / IMAGE).read_bytes() == (peer['root'] / IMAGE).read_bytes()


def test_other_bytes_than_the_controller_listed_are_refused_and_nothing_written(peer, tmp_path, run_module):
    replica = tmp_path / 'replica'
    args = sync_args(peer, replica)
    args['checksums'][IMAGE] = sha1(b'what the controller built')
    result = run_module(aci_replica_sync.main, args, expect_failure=False)
    assert result['fetched'] == ['pubkeys.gpg', IMAGE + '.asc'] and result['changed']
    [failed] = result['not_fetched']
    assert failed['path'] == IMAGE
    assert "not the controller's %s: refused, nothing was written" % args['checksums'][IMAGE] in failed['reason']
    assert tree(replica) == sorted(['pubkeys.gpg', IMAGE + '.asc'])


def test_an_image_whose_signature_fails_is_refused_even_with_the_listed_checksum(peer, tmp_path, signer, run_module):
    other = tmp_path / 'other'
    other.write_bytes(b'another file')
    sig, _fpr = g.sign_detached(signer['gpg'], signer['fpr'], str(other))
    (peer['root'] / (IMAGE + '.asc')).write_bytes(sig)
    replica = tmp_path / 'replica'
    result = run_module(aci_replica_sync.main, sync_args(peer, replica), expect_failure=False)
    assert [f['path'] for f in result['not_fetched']] == [IMAGE]
    assert 'signature check failed' in result['not_fetched'][0]['reason']
    assert not (replica / IMAGE).exists() and result['signatures_checked'] == 0


def test_a_peer_that_is_down_is_reported_once_and_nothing_written(peer, tmp_path, run_module):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        closed = s.getsockname()[1]
    replica = tmp_path / 'replica'
    result = run_module(aci_replica_sync.main, sync_args(peer, replica, peer='https://127.0.0.1:%d' % closed),
                        expect_failure=False)
    assert not result['changed'] and result['fetched'] == []
    assert [f['path'] for f in result['not_fetched']] == ['pubkeys.gpg', IMAGE + '.asc', IMAGE]
    assert result['not_fetched'][0]['reason'].startswith('cannot reach https://127.0.0.1:%d/pubkeys.gpg' % closed)
    assert result['not_fetched'][1]['reason'].startswith('not asked: cannot reach')
    assert 'copy them from the controller' in result['msg']
    assert tree(replica) == []


@pytest.mark.parametrize('server_name, ca', [('localhost', True), (DOMAIN, False)])
def test_a_certificate_for_another_name_or_from_another_ca_is_refused(peer, tmp_path, run_module, server_name, ca):
    replica = tmp_path / 'replica'
    args = sync_args(peer, replica, server_name=server_name)
    if not ca:
        del args['ca_path']
    result = run_module(aci_replica_sync.main, args, expect_failure=False)
    assert len(result['not_fetched']) == 3 and 'CERTIFICATE_VERIFY_FAILED' in result['not_fetched'][0]['reason']
    assert peer['requests'] == [] and tree(replica) == []


class Redirecting(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(301)
        self.send_header('Location', 'http://127.0.0.1/elsewhere')
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_is_refused(peer, tmp_path, run_module):
    with serve(peer['root'], peer['pki'], Redirecting) as server:
        args = sync_args(peer, tmp_path / 'replica', peer='https://127.0.0.1:%d' % server.server_address[1])
        result = run_module(aci_replica_sync.main, args, expect_failure=False)
    assert 'redirects to http://127.0.0.1/elsewhere' in result['not_fetched'][0]['reason']
    assert len(result['not_fetched']) == 3 and tree(tmp_path / 'replica') == []


def test_more_bytes_than_listed_are_refused(peer, tmp_path, run_module):
    args = sync_args(peer, tmp_path / 'replica')
    args['sizes'][IMAGE] -= 1
    result = run_module(aci_replica_sync.main, args, expect_failure=False)
    assert [f['path'] for f in result['not_fetched']] == [IMAGE]
    assert "larger than the controller's size of it (%d bytes)" % args['sizes'][IMAGE] in result['not_fetched'][0]['reason']
    assert not (tmp_path / 'replica' / IMAGE).exists()


@pytest.mark.parametrize('change, message', [
    (dict(peer='http://127.0.0.1'), "peer 'http://127.0.0.1' is not the https:// base URL of a replica"),
    (dict(checksums={'../etc/passwd': '0' * 40}), "checksums: '../etc/passwd' is not a path relative"),
    (dict(checksums={'pubkeys.gpg': 'abc'}), "checksums: the checksum of pubkeys.gpg is 'abc', not a sha1"),
    (dict(sizes={'pubkeys.gpg': 'big'}), "sizes: the size of pubkeys.gpg is 'big', not a number"),
    (dict(max_size='lots'), "max_size 'lots' is not a size"),
])
def test_bad_options_fail_with_a_message(peer, tmp_path, run_module, change, message):
    result = run_module(aci_replica_sync.main, sync_args(peer, tmp_path / 'replica', **change), expect_failure=True)
    assert result['msg'].startswith(message)
    assert peer['requests'] == []
