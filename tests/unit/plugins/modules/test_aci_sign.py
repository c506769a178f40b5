# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci.registry.aci_sign with the real gpg in short-lived GNUPGHOMEs."""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.plugins.modules import aci_build, aci_sign, gpg_key
from ansible_collections.aci.registry.tests.unit.plugins.gpg_homes import kill_agent, new_home

pytestmark = pytest.mark.skipif(not (shutil.which('gpg') and g.HAS_GNUPG), reason='needs gpg and python-gnupg')

PASS = 'sign me, 7 horses'


@pytest.fixture(scope='module')
def keys(quick_key):
    """One home for the whole file: RSA 2048 with a passphrase, an unprotected RSA 2048 key, an
    expired key, a revoked key, the public key only of a key whose secret lives elsewhere, and a
    P-256 key made by gpg itself, which gpg can sign with and rkt cannot read."""
    root = tempfile.mkdtemp(prefix='as', dir='/tmp')
    home = new_home(root, 'h')
    elsewhere = new_home(root, 'x')
    gpg = g.open_home(home)
    rsa = g.generate_key(gpg, 'ACI signer', 'aci@example.com', None, 'rsa2048', '2y', PASS)
    plain = g.generate_key(gpg, 'Plain signer', algorithm='rsa2048')
    rc, stderr = g._run(gpg, ['--gen-key'], None, b'Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\n'
                        b'Name-Real: Expired signer\nCreation-Date: 20200101T000000\nExpire-Date: 1d\n'
                        b'%no-protection\n%commit\n')
    assert rc == 0, stderr
    expired = g.find_keys_by_uid(gpg, 'Expired signer')[0]['fingerprint']
    revoked = g.generate_key(gpg, 'Revoked signer', algorithm='rsa2048')
    with open(os.path.join(home, 'openpgp-revocs.d', revoked + '.rev')) as f:
        gpg.import_keys(f.read().replace(':-----BEGIN', '-----BEGIN'))
    other_gpg = g.open_home(elsewhere)
    foreign = g.generate_key(other_gpg, 'Foreign signer', algorithm='rsa2048')
    gpg.import_keys(g.export_public_key(other_gpg, foreign))
    ec = quick_key(gpg, 'EC signer', 'nistp256')
    yield dict(root=root, home=home, gpg=gpg, rsa=rsa, plain=plain, expired=expired, revoked=revoked, foreign=foreign,
               ec=ec)
    for h in (home, elsewhere):
        kill_agent(h)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def aci(tmp_path):
    path = tmp_path / 'hello-0.1-linux-amd64.aci'
    path.write_bytes(os.urandom(20000))
    return str(path)


def params(keys, path, **extra):
    base = dict(path=path, gnupghome=keys['home'], fingerprint=keys['rsa'], passphrase=PASS)
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def no_secret(result):
    assert PASS not in json.dumps(result)


def four_calls(run_module, args):
    results = []
    for check_mode in (True, False, True, False):
        result = run_module(aci_sign.main, args, check_mode=check_mode, diff=True, expect_failure=False)
        no_secret(result)
        results.append(result)
    assert [r['changed'] for r in results] == [True, True, False, False]
    return results


def gpg_verify_with_only(pubkey_path, data, sig):
    """``gpg --verify`` in an empty keyring into which only ``pubkey_path`` was imported."""
    home = tempfile.mkdtemp(prefix='gv', dir='/tmp')
    try:
        base = ['gpg', '--homedir', home, '--batch', '--no-tty']
        imported = subprocess.run(base + ['--import', pubkey_path], capture_output=True, check=False)
        assert imported.returncode == 0, imported.stderr
        listed = subprocess.run(base + ['--with-colons', '--list-keys'], capture_output=True, check=True)
        assert listed.stdout.count(b'\npub:') + listed.stdout.startswith(b'pub:') == 1
        return subprocess.run(base + ['--verify', sig, data], capture_output=True, check=False)
    finally:
        kill_agent(home)
        shutil.rmtree(home, ignore_errors=True)


def test_four_calls_and_result(run_module, keys, aci):
    check, run, check2, run2 = four_calls(run_module, params(keys, aci))
    assert not os.path.exists(aci + '.asc') or check  # check mode wrote nothing (asserted below too)
    assert run['signature_path'] == aci + '.asc'
    assert run['signer_fingerprint'] == run2['signer_fingerprint'] == check['signer_fingerprint'] == keys['rsa']
    with open(aci, 'rb') as f:
        assert run['sha512'] == run2['sha512'] == hashlib.sha512(f.read()).hexdigest()
    assert stat.S_IMODE(os.stat(aci + '.asc').st_mode) == 0o644
    assert run['diff']['before'] == dict(signature=None, signer=None, signed_sha512=None)
    assert run['diff']['after'] == dict(signature=aci + '.asc', signer=keys['rsa'], signed_sha512=run['sha512'])
    assert check['diff'] == run['diff'] and check2['diff']['before'] == check2['diff']['after']
    with open(aci + '.asc', 'rb') as f:
        assert f.read().startswith(b'-----BEGIN PGP SIGNATURE-----')


def test_check_mode_writes_nothing(run_module, keys, aci):
    result = run_module(aci_sign.main, params(keys, aci), check_mode=True, expect_failure=False)
    assert result['changed'] and not os.path.exists(aci + '.asc')


def test_signature_verifies_with_only_the_published_key_and_fails_after_one_byte(run_module, keys, tmp_path):
    """The end-to-end promise: gpg_key's public_key_path is all a client needs."""
    home = new_home(str(tmp_path), 'k')
    try:
        pub = str(tmp_path / 'pubkeys.gpg')
        key = run_module(gpg_key.main, dict(gnupghome=home, name_real='Registry key', algorithm='rsa2048',
                                            passphrase=PASS, public_key_path=pub), expect_failure=False)
        image = tmp_path / 'image.aci'
        image.write_bytes(os.urandom(50000))
        signed = run_module(aci_sign.main, dict(path=str(image), gnupghome=home, fingerprint=key['fingerprint'],
                                                passphrase=PASS), expect_failure=False)
        assert signed['signer_fingerprint'] == key['fingerprint']
        good = gpg_verify_with_only(pub, str(image), signed['signature_path'])
        assert good.returncode == 0, good.stderr
        assert b'Good signature' in good.stderr

        content = bytearray(image.read_bytes())
        content[12345] ^= 0x01
        image.write_bytes(bytes(content))
        bad = gpg_verify_with_only(pub, str(image), signed['signature_path'])
        assert bad.returncode != 0 and b'BAD signature' in bad.stderr

        # ... and the module notices the change and signs the new bytes.
        again = run_module(aci_sign.main, dict(path=str(image), gnupghome=home, fingerprint=key['fingerprint'],
                                               passphrase=PASS), expect_failure=False)
        assert again['changed'] and gpg_verify_with_only(pub, str(image), again['signature_path']).returncode == 0
    finally:
        kill_agent(home)


def test_rkt_verifies_what_gpg_key_and_aci_sign_made(run_module, rkt_fetch, tmp_path):
    """The promise with the real client: the published key and aci_sign's signature are all
    `rkt fetch` needs."""
    home = new_home(str(tmp_path), 'k')
    try:
        key = run_module(gpg_key.main, dict(gnupghome=home, name_real='rkt check signer', algorithm='rsa2048',
                                            unprotected=True), expect_failure=False)
        rootfs = tmp_path / 'rootfs'
        (rootfs / 'bin').mkdir(parents=True)
        (rootfs / 'bin' / 'hello').write_text('#!/bin/sh\necho hello\n')
        image = str(tmp_path / 'hello-1-linux-amd64.aci')
        built = run_module(aci_build.main, dict(rootfs=str(rootfs), dest=image, name='example.com/hello',
                                                labels=dict(version='1', os='linux', arch='amd64'),
                                                exec=['/bin/hello'], user='0', group='0'), expect_failure=False)
        signed = run_module(aci_sign.main, dict(path=image, gnupghome=home, fingerprint=key['fingerprint']),
                            expect_failure=False)
        assert signed['signature_path'] == image + '.asc'
        fetched = rkt_fetch(image, 'example.com/hello', {key['fingerprint']: key['public_key']})
        assert fetched.returncode == 0, fetched.stderr
        # rkt names an image by the first 256 bits of its SHA-512.
        assert built['image_id'].startswith(fetched.stdout.strip()) and len(fetched.stdout.strip()) == 7 + 64
    finally:
        kill_agent(home)


@pytest.mark.parametrize('check_mode', [False, True])
def test_ecdsa_key_is_refused_though_gpg_can_sign_with_it(run_module, keys, aci, check_mode):
    gpg_sig, signer = g.sign_detached(keys['gpg'], keys['ec'], aci)
    assert signer == keys['ec'] and gpg_sig
    result = run_module(aci_sign.main, params(keys, aci, fingerprint=keys['ec'], passphrase=None),
                        check_mode=check_mode, expect_failure=True)
    assert result['msg'].startswith('Key %s: ' % keys['ec'])
    assert 'reads only RSA and DSA keys' in result['msg'] and 'signatures by nistp256 keys' in result['msg']
    assert not os.path.exists(aci + '.asc')


def test_changed_file_is_signed_again(run_module, keys, aci):
    first = run_module(aci_sign.main, params(keys, aci), expect_failure=False)
    with open(aci, 'ab') as f:
        f.write(b'\0')
    second = run_module(aci_sign.main, params(keys, aci), diff=True, expect_failure=False)
    assert second['changed'] and second['sha512'] != first['sha512']
    assert second['diff']['before']['signer'] is None  # the old signature no longer matches the file
    assert not run_module(aci_sign.main, params(keys, aci), expect_failure=False)['changed']


def test_another_key_signs_again(run_module, keys, aci):
    run_module(aci_sign.main, params(keys, aci), expect_failure=False)
    other = run_module(aci_sign.main, params(keys, aci, fingerprint=keys['plain'], passphrase=None), diff=True,
                       expect_failure=False)
    assert other['changed'] and other['signer_fingerprint'] == keys['plain']
    # The old signature exists but does not verify with the key asked for.
    assert other['diff']['before'] == dict(signature=aci + '.asc', signer=None, signed_sha512=None)
    assert not run_module(aci_sign.main, params(keys, aci, fingerprint=keys['plain'], passphrase=None),
                          expect_failure=False)['changed']


def test_damaged_signature_is_replaced(run_module, keys, aci):
    with open(aci + '.asc', 'w') as f:
        f.write('-----BEGIN PGP SIGNATURE-----\n\ngarbage\n-----END PGP SIGNATURE-----\n')
    result = run_module(aci_sign.main, params(keys, aci, backup=True), expect_failure=False)
    assert result['changed'] and os.path.exists(result['backup_file'])
    with open(result['backup_file']) as f:
        assert 'garbage' in f.read()


def test_dest_mode_and_spaced_fingerprint(run_module, keys, aci, tmp_path):
    dest = str(tmp_path / 'elsewhere.asc')
    spaced = ' '.join(keys['plain'][i:i + 4] for i in range(0, 40, 4)).lower()
    result = run_module(aci_sign.main, params(keys, aci, dest=dest, fingerprint=spaced, passphrase=None,
                                              mode='0640'), expect_failure=False)
    assert result['signature_path'] == dest and result['signer_fingerprint'] == keys['plain']
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o640 and not os.path.exists(aci + '.asc')
    os.chmod(dest, 0o600)
    fixed = run_module(aci_sign.main, params(keys, aci, dest=dest, fingerprint=spaced, passphrase=None,
                                             mode='0640'), expect_failure=False)
    assert fixed['changed'] and stat.S_IMODE(os.stat(dest).st_mode) == 0o640


def test_failed_signing_leaves_the_previous_signature(run_module, keys, aci):
    run_module(aci_sign.main, params(keys, aci), expect_failure=False)
    with open(aci + '.asc', 'rb') as f:
        before = f.read()
    with open(aci, 'ab') as f:
        f.write(b'more')
    result = run_module(aci_sign.main, params(keys, aci, passphrase='wrong'), expect_failure=True)
    assert 'wrong passphrase' in result['msg']
    with open(aci + '.asc', 'rb') as f:
        assert f.read() == before
    assert sorted(os.listdir(os.path.dirname(aci))) == sorted([os.path.basename(aci), os.path.basename(aci) + '.asc'])


@pytest.mark.parametrize('case, message', [
    ('missing file', 'does not exist'),
    ('directory', 'not a regular file'),
    ('unknown key', 'Unknown key'),
    ('public only', 'only the public part'),
    ('key id', '40 hexadecimal digits'),
    ('wrong passphrase', 'wrong passphrase'),
    ('no passphrase', 'protected by a passphrase'),
    ('multi-line passphrase', 'line breaks'),
    ('expired', 'expired on'),
    ('revoked', 'revoked'),
    ('ECDSA key', "rkt 1.30's OpenPGP library (golang.org/x/crypto/openpgp of 2016) reads only RSA and DSA keys"),
    ('dest dir missing', 'does not exist'),
    ('dest is a dir', 'is a directory'),
    ('dest unwritable', 'Cannot write signature'),
    ('no home', 'gnupghome'),
])
@pytest.mark.parametrize('check_mode', [False, True])
def test_bad_input_is_named(run_module, keys, aci, tmp_path, case, message, check_mode):
    args = params(keys, aci)
    if case == 'missing file':
        args['path'] = str(tmp_path / 'nope.aci')
    elif case == 'directory':
        args['path'] = str(tmp_path)
    elif case == 'unknown key':
        args['fingerprint'] = '0123456789ABCDEF0123456789ABCDEF01234567'
    elif case == 'public only':
        args['fingerprint'] = keys['foreign']
    elif case == 'key id':
        args['fingerprint'] = keys['rsa'][-16:]
    elif case == 'wrong passphrase':
        args['passphrase'] = PASS + '!'
    elif case == 'no passphrase':
        del args['passphrase']
    elif case == 'multi-line passphrase':
        args['passphrase'] = PASS + '\nsecond line'
    elif case == 'expired':
        args.update(fingerprint=keys['expired'], passphrase=None)
    elif case == 'revoked':
        args.update(fingerprint=keys['revoked'], passphrase=None)
    elif case == 'ECDSA key':
        args.update(fingerprint=keys['ec'], passphrase=None)
    elif case == 'dest dir missing':
        args['dest'] = str(tmp_path / 'no' / 'x.asc')
        if check_mode:
            # In a dry run the task that would create the directory has not run either.
            result = run_module(aci_sign.main, args, check_mode=True, expect_failure=False)
            assert result['changed'] and not (tmp_path / 'no').exists()
            return
    elif case == 'dest is a dir':
        args['dest'] = str(tmp_path)
    elif case == 'dest unwritable':
        if check_mode:
            pytest.skip('the write itself is what fails; check mode does not write')
        # Root may write anywhere os.access() looks; /proc refuses new files even to root.
        args['dest'] = '/proc/aci-sign-test.asc'
    elif case == 'no home':
        args['gnupghome'] = str(tmp_path / 'nohome')
    result = run_module(aci_sign.main, args, check_mode=check_mode, expect_failure=True)
    assert message in result["msg"], result["msg"]
    no_secret(result)
    assert not os.path.exists(aci + '.asc')


def test_passphrase_not_in_ansible_vvv_output(keys, aci, ansible_adhoc):
    tmp = os.path.dirname(aci)
    for passphrase, ok in ((PASS, True), (PASS + ' wrong', False)):
        if os.path.exists(aci + '.asc'):
            os.unlink(aci + '.asc')  # a valid signature would be kept without asking for the passphrase
        rc, text = ansible_adhoc('aci.registry.aci_sign', params(keys, aci, passphrase=passphrase), tmp)
        assert (rc == 0) == ok, text
        assert ('signer_fingerprint' in text) if ok else ('wrong passphrase' in text)
        assert PASS not in text
