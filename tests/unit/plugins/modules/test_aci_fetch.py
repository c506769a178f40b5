# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci_fetch against a real HTTPS registry on loopback: real TLS, real gpg, real ACIs."""

import os
import shutil
import subprocess
import tempfile

import pytest

from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.plugins.module_utils import webroot
from ansible_collections.aci.registry.plugins.modules import aci_build, aci_fetch, aci_webroot
from ansible_collections.aci.registry.tests.unit.plugins.https_server import Server, make_pki

pytestmark = pytest.mark.skipif(not (shutil.which('gpg') and g.HAS_GNUPG), reason='needs gpg and python-gnupg')

DOMAIN = 'localhost'


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp('pki'))


@pytest.fixture(scope='module')
def signer(quick_key):
    root = tempfile.mkdtemp(prefix='af', dir='/tmp')
    homes = []
    for name in ('registry', 'attacker'):
        home = os.path.join(root, name)
        g.prepare_home(home)
        homes.append(home)
    gpg, evil = g.open_home(homes[0]), g.open_home(homes[1])
    fpr = g.generate_key(gpg, 'Registry signer', algorithm='rsa2048')
    evil_fpr = g.generate_key(evil, 'Attacker', algorithm='rsa2048')
    # gpg signs and verifies with it; rkt cannot read it.
    ec_fpr = quick_key(gpg, 'Registry EC signer', 'nistp256')
    yield dict(gpg=gpg, fpr=fpr, evil=evil, evil_fpr=evil_fpr, pubkey=g.export_public_key(gpg, fpr),
               ec_fpr=ec_fpr, ec_pubkey=g.export_public_key(gpg, ec_fpr))
    for home in homes:
        subprocess.run(['gpgconf', '--homedir', home, '--kill', 'gpg-agent'], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def registry(tmp_path, pki, signer, run_module):
    """A web root with app (v1, v2) and app1 (v1), laid out and signed, served over HTTPS."""
    root = tmp_path / 'www'
    rootfs = tmp_path / 'rootfs'
    (rootfs / 'bin').mkdir(parents=True)
    images = []
    for path, version in (('app', 'v1'), ('app', 'v2'), ('app1', 'v1')):
        (rootfs / 'bin' / 'hello').write_text('%s %s\n' % (path, version))
        dest = root / webroot.image_relpath(path, version, 'linux', 'amd64')
        dest.parent.mkdir(parents=True, exist_ok=True)
        built = run_module(aci_build.main, dict(
            rootfs=str(rootfs), dest=str(dest), name='%s/%s' % (DOMAIN, path),
            labels=dict(version=version, os='linux', arch='amd64'), exec=['/bin/hello'], user='0', group='0'),
            expect_failure=False)
        # As aci_sign signs: about 1 RSA signature in 200 is one byte short, which rkt (and aci_fetch) refuse.
        sig, _fpr = g.sign_and_check(signer['gpg'], signer['fpr'], str(dest))
        (root / webroot.signature_relpath(path, version, 'linux', 'amd64')).write_bytes(sig)
        images.append(dict(name='%s/%s' % (DOMAIN, path), version=version, os='linux', arch='amd64',
                           image_id=built['image_id'], size=built['size']))
    (root / webroot.PUBKEYS_FILE).write_text(signer['pubkey'])

    server = Server(root, pki)
    port = server.port
    run_module(aci_webroot.main, dict(path=str(root), domain=DOMAIN, port=port, images=images), expect_failure=False)
    with server.running():
        yield dict(root=root, port=port, images=images, pki=pki, requests=server.requests)


def fetch_args(registry, tmp_path, name, **kw):
    args = dict(name=name, dest=str(tmp_path / 'out' / 'image.aci'), port=registry['port'],
                ca_path=str(registry['pki'] / 'ca.pem'))
    args.update(kw)
    (tmp_path / 'out').mkdir(exist_ok=True)
    return args


def test_fetch_verifies_and_is_idempotent(registry, tmp_path, signer, run_module):
    args = fetch_args(registry, tmp_path, 'localhost/app:v1', trusted_key=signer['pubkey'])
    results = [run_module(aci_fetch.main, args, check_mode=check) for check in (True, False, True, False)]
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert [r['downloaded'] for r in results] == [False, True, False, False]
    first = results[1]
    assert first['image_id'] == registry['images'][0]['image_id']
    assert first['signer'] == signer['fpr']
    assert first['aci_url'].endswith('/app/v1-linux-amd64.aci')
    assert first['discovery_page'].endswith('/app?ac-discovery=1')
    assert os.path.isfile(args['dest'] + '.asc')


@pytest.mark.parametrize('name, image_index', [('localhost/app:v1', 0), ('localhost/app1:v1', 2)])
def test_app_and_app1_each_get_their_own_image(registry, tmp_path, signer, run_module, name, image_index):
    result = run_module(aci_fetch.main, fetch_args(registry, tmp_path, name, trusted_key=signer['pubkey']),
                        expect_failure=False)
    assert result['image_id'] == registry['images'][image_index]['image_id']
    assert result['name'] == name.split(':')[0]


def test_without_version_gets_latest(registry, tmp_path, signer, run_module):
    result = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app', trusted_key=signer['pubkey']),
                        expect_failure=False)
    assert result['version'] == 'v2' and result['image_id'] == registry['images'][1]['image_id']


def test_discovered_key_pinned_by_fingerprint(registry, tmp_path, signer, run_module):
    pretty = ' '.join(signer['fpr'][i:i + 4] for i in range(0, 40, 4))
    result = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app1:v1', key_fingerprint=pretty),
                        expect_failure=False)
    assert result['signer'] == signer['fpr']


def test_a_short_key_fingerprint_fails_with_a_message(registry, tmp_path, run_module):
    args = fetch_args(registry, tmp_path, 'localhost/app1:v1', key_fingerprint='9E90CD8C')
    result = run_module(aci_fetch.main, args, expect_failure=True)
    assert result['msg'].startswith("key_fingerprint: '9E90CD8C' is not an OpenPGP v4 fingerprint (40 hexadecimal")
    assert not os.path.exists(args['dest'])


@pytest.mark.parametrize('check_mode', [True, False])
def test_an_unwritable_dest_directory_fails_in_check_mode_too(monkeypatch, registry, tmp_path, signer, run_module,
                                                              check_mode):
    args = fetch_args(registry, tmp_path, 'localhost/app1:v1', trusted_key=signer['pubkey'])
    out = os.path.dirname(args['dest'])
    real_access = os.access
    monkeypatch.setattr(os, 'access', lambda path, mode: path != out and real_access(path, mode))
    del registry['requests'][:]
    result = run_module(aci_fetch.main, args, check_mode=check_mode, expect_failure=True)
    assert result['msg'] == 'Cannot write %s: directory %s is not writable by this user.' % (args['dest'], out)
    assert registry['requests'] == [] and os.listdir(out) == []


def test_discovered_key_with_another_fingerprint_is_refused(registry, tmp_path, signer, run_module):
    args = fetch_args(registry, tmp_path, 'localhost/app1:v1', key_fingerprint=signer['evil_fpr'])
    result = run_module(aci_fetch.main, args, expect_failure=True)
    assert 'key_fingerprint is %s' % signer['evil_fpr'] in result['msg']
    assert not os.path.exists(args['dest'])


def test_tampered_image_is_refused_and_nothing_written(registry, tmp_path, signer, run_module):
    path = registry['root'] / 'app1' / 'v1-linux-amd64.aci'
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    args = fetch_args(registry, tmp_path, 'localhost/app1:v1', trusted_key=signer['pubkey'])
    result = run_module(aci_fetch.main, args, expect_failure=True)
    assert 'signature check of' in result['msg'] and 'Nothing was written' in result['msg']
    assert os.listdir(str(tmp_path / 'out')) == []


def test_tampered_image_does_not_replace_a_good_copy(registry, tmp_path, signer, run_module):
    args = fetch_args(registry, tmp_path, 'localhost/app1:v1', trusted_key=signer['pubkey'])
    run_module(aci_fetch.main, args, expect_failure=False)
    good = open(args['dest'], 'rb').read()
    path = registry['root'] / 'app1' / 'v1-linux-amd64.aci'
    path.write_bytes(path.read_bytes()[:-10] + b'0123456789')
    run_module(aci_fetch.main, dict(args, force=True), expect_failure=True)
    assert open(args['dest'], 'rb').read() == good


def test_signature_by_another_key_is_refused(registry, tmp_path, signer, run_module):
    image = registry['root'] / 'app' / 'v1-linux-amd64.aci'
    sig, _fpr = g.sign_detached(signer['evil'], signer['evil_fpr'], str(image))
    (registry['root'] / 'app' / 'v1-linux-amd64.aci.asc').write_bytes(sig)
    result = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app:v1', trusted_key=signer['pubkey']),
                        expect_failure=True)
    assert 'signature check of' in result['msg']


def sign_with_ecdsa(registry, signer, path='app1', version='v1'):
    image = registry['root'] / path / ('%s-linux-amd64.aci' % version)
    sig, _fpr = g.sign_detached(signer['gpg'], signer['ec_fpr'], str(image))
    (registry['root'] / path / ('%s-linux-amd64.aci.asc' % version)).write_bytes(sig)


def assert_refused_as_rkt_would(result, signer):
    assert 'the way rkt would' in result['msg'] and 'key %s' % signer['ec_fpr'] in result['msg']
    assert "rkt 1.30's OpenPGP library" in result['msg'] and 'signatures by nistp256 keys' in result['msg']
    assert 'Nothing was written' in result['msg']


def test_trusted_ecdsa_key_is_refused_as_rkt_refuses_it(registry, tmp_path, signer, run_module):
    sign_with_ecdsa(registry, signer)
    args = fetch_args(registry, tmp_path, 'localhost/app1:v1', trusted_key=signer['ec_pubkey'])
    assert_refused_as_rkt_would(run_module(aci_fetch.main, args, expect_failure=True), signer)
    assert os.listdir(str(tmp_path / 'out')) == []


def test_discovered_ecdsa_key_is_refused_even_when_pinned(registry, tmp_path, signer, run_module):
    sign_with_ecdsa(registry, signer)
    (registry['root'] / webroot.PUBKEYS_FILE).write_text(signer['ec_pubkey'])
    args = fetch_args(registry, tmp_path, 'localhost/app1:v1', key_fingerprint=signer['ec_fpr'])
    assert_refused_as_rkt_would(run_module(aci_fetch.main, args, expect_failure=True), signer)
    assert os.listdir(str(tmp_path / 'out')) == []


@pytest.mark.parametrize('check_mode', [False, True])
def test_kept_copy_and_an_ecdsa_key_fail_without_downloading_again(registry, tmp_path, signer, run_module,
                                                                   check_mode):
    args = fetch_args(registry, tmp_path, 'localhost/app1:v1', trusted_key=signer['pubkey'])
    run_module(aci_fetch.main, args, expect_failure=False)
    kept = open(args['dest'], 'rb').read()
    sign_with_ecdsa(registry, signer)
    del registry['requests'][:]
    result = run_module(aci_fetch.main, dict(args, trusted_key=signer['ec_pubkey']), check_mode=check_mode,
                        expect_failure=True)
    assert_refused_as_rkt_would(result, signer)
    assert open(args['dest'], 'rb').read() == kept
    assert '/app1/v1-linux-amd64.aci.asc' in registry['requests']
    assert '/app1/v1-linux-amd64.aci' not in registry['requests']


def test_image_under_the_wrong_name_is_refused(registry, tmp_path, signer, run_module):
    # A correctly signed image, but of app, served where app1 v1 should be.
    for ext in ('aci', 'aci.asc'):
        shutil.copy(str(registry['root'] / 'app' / ('v1-linux-amd64.' + ext)),
                    str(registry['root'] / 'app1' / ('v1-linux-amd64.' + ext)))
    result = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app1:v1', trusted_key=signer['pubkey']),
                        expect_failure=True)
    assert "name 'localhost/app' (asked for 'localhost/app1')" in result['msg']


def test_unknown_version_names_every_page_asked(registry, tmp_path, signer, run_module):
    result = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app:v9', trusted_key=signer['pubkey']),
                        expect_failure=True)
    assert 'HTTP 404' in result['msg'] and 'v9-linux-amd64.aci.asc' in result['msg']


def test_untrusted_certificate_is_refused(registry, tmp_path, signer, run_module):
    args = fetch_args(registry, tmp_path, 'localhost/app:v1', trusted_key=signer['pubkey'])
    del args['ca_path']
    result = run_module(aci_fetch.main, args, expect_failure=True)
    assert 'trusts' in result['msg'] and 'CERTIFICATE_VERIFY_FAILED' in result['msg']


def test_no_trust_given_is_refused(registry, tmp_path, run_module):
    result = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app:v1'), expect_failure=True)
    assert 'one of the following is required' in result['msg']


def test_max_size_is_inclusive_and_takes_units(registry, tmp_path, signer, run_module):
    size = registry['images'][0]['size']
    exact = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app:v1', trusted_key=signer['pubkey'],
                                                  max_size=str(size)), expect_failure=False)
    assert exact['downloaded']
    with_unit = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app:v2', trusted_key=signer['pubkey'],
                                                      dest=str(tmp_path / 'v2.aci'), max_size='1M'), expect_failure=False)
    assert with_unit['downloaded']
    smaller = run_module(aci_fetch.main, fetch_args(registry, tmp_path, 'localhost/app:v1', trusted_key=signer['pubkey'],
                                                    dest=str(tmp_path / 'v1.aci'), max_size=str(size - 1)),
                         expect_failure=True)
    assert 'larger than max_size (%d bytes)' % (size - 1) in smaller['msg']
    assert not (tmp_path / 'v1.aci').exists()
