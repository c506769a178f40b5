# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci.registry.gpg_key with secret_key: a key made elsewhere imported into short-lived GNUPGHOMEs, real gpg."""

import json
import logging
import os
import shutil
import stat
import tempfile
import time

import pytest

from ansible.module_utils import basic

from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.plugins.modules import gpg_key
from ansible_collections.aci.registry.tests.unit.plugins.gpg_homes import kill_agent, new_home

pytestmark = pytest.mark.skipif(not (shutil.which('gpg') and g.HAS_GNUPG), reason='needs gpg and python-gnupg')

PASS = 'Vault passphrase 7'
UID = 'Vault signing key <vault@example.com>'
DATA = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'data')
# tests/unit/plugins/module_utils/test_gpg.py: an unprotected key whose self-signature rkt cannot verify.
SHORT_SELF_SIGNATURE_KEY = os.path.join(DATA, 'short-self-signature.asc')
SHORT_SELF_SIGNATURE_FPR = '4A7B99515F705D78552987814610496B8C1EE77A'


@pytest.fixture(scope='module')
def source():
    """The home a key was made in once, and what a vault would hold of it (as gpg exports it)."""
    root = tempfile.mkdtemp(prefix='gi', dir='/tmp')
    home = new_home(root, 'src')
    gpg = g.open_home(home)
    fpr = g.generate_key(gpg, 'Vault signing key', 'vault@example.com', algorithm='rsa2048', passphrase=PASS)
    other = g.generate_key(gpg, 'Another key', algorithm='rsa2048')
    yield dict(root=root, home=home, gpg=gpg, fpr=fpr, other=other,
               secret=g.export_secret_key(gpg, fpr, PASS), public=g.export_public_key(gpg, fpr),
               other_secret=g.export_secret_key(gpg, other))
    kill_agent(home)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def bare():
    """A short directory with ``home`` not yet created, and a private TMPDIR to see what is left in it."""
    root = tempfile.mkdtemp(prefix='gj', dir='/tmp')
    tmp = os.path.join(root, 't')
    os.mkdir(tmp)
    saved, tempfile.tempdir = tempfile.tempdir, tmp
    yield dict(root=root, home=os.path.join(root, 'gnupg'), tmp=tmp)
    tempfile.tempdir = saved
    for name in os.listdir(root):
        if os.path.isdir(os.path.join(root, name)):
            kill_agent(os.path.join(root, name))
    shutil.rmtree(root, ignore_errors=True)


def args(bare, secret_key, **extra):
    base = dict(gnupghome=bare['home'], secret_key=secret_key, passphrase=PASS)
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


_PUBLIC_PARTS = {}


def public_part(armored):
    """The armored public key of the secret key ``armored`` ('' when it holds no one key)."""
    if armored not in _PUBLIC_PARTS:
        with g.scratch_home(agent=True) as scratch:
            found = g.import_keys(scratch, armored)
            _PUBLIC_PARTS[armored] = g.export_public_key(scratch, found[0]) if len(found) == 1 else ''
    return _PUBLIC_PARTS[armored]


def secret_lines(armored):
    """The lines of an armored secret key that carry secret key material (none of them may show anywhere).

    A secret key packet starts with the public key, so the first lines of the armor may also be
    lines of the public key that results rightly show."""
    if '-----BEGIN PGP PRIVATE KEY BLOCK-----' not in armored:
        return []
    public = ''.join(public_part(armored).split())  # the same bytes may be broken into lines elsewhere
    body = armored.split('-----BEGIN PGP PRIVATE KEY BLOCK-----')[1].split('-----END')[0]
    return [line for line in body.splitlines() if len(line) > 16 and line not in public]


def assert_no_secret(text, armored):
    assert 'PRIVATE KEY' not in text and PASS not in text
    leaked = [line for line in secret_lines(armored) if line in text]
    assert not leaked, 'secret key material in the output'


def run_import(run_module, params, **kwargs):
    result = run_module(gpg_key.main, params, **kwargs)
    assert_no_secret(json.dumps(result), params['secret_key'])
    return result


def test_import_four_calls(run_module, bare, source):
    pub = os.path.join(bare['root'], 'pubkeys.gpg')
    backup = os.path.join(bare['root'], 'backup.asc')
    params = args(bare, source['secret'], public_key_path=pub, secret_key_backup_path=backup)
    results = [run_import(run_module, params, check_mode=check_mode, diff=True, expect_failure=False)
               for check_mode in (True, False, True, False)]
    assert [r['changed'] for r in results] == [True, True, False, False]
    check, run = results[0], results[1]
    # The key is known before it is imported: check mode reports what the real run does.
    for result in results:
        assert (result['fingerprint'], result['uid'], result['algorithm']) == (source['fpr'], UID, 'rsa2048')
    assert check['public_key'] == run['public_key'] == source['public']
    with open(pub) as f:
        assert f.read() == run['public_key']
    assert stat.S_IMODE(os.stat(pub).st_mode) == 0o644 and stat.S_IMODE(os.stat(bare['home']).st_mode) == 0o700
    key = g.get_key(g.open_home(bare['home']), source['fpr'])
    assert key['secret'] and key['expires'] is None
    g.check_passphrase(g.open_home(bare['home']), source['fpr'], PASS)
    assert g.scan_key_file(g.open_home(bare['home']), backup) == [dict(fingerprint=source['fpr'], secret=True)]
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    assert os.listdir(bare['tmp']) == [], 'the scratch homes are gone'


def test_check_mode_creates_nothing(run_module, bare, source):
    result = run_import(run_module, args(bare, source['secret'], public_key_path=os.path.join(bare['root'], 'p.gpg')),
                        check_mode=True, diff=True, expect_failure=False)
    assert result['changed'] and result['diff'][0]['before'] == {} and result['diff'][0]['after']['uid'] == UID
    assert sorted(os.listdir(bare['root'])) == ['t'] and os.listdir(bare['tmp']) == []


def test_unprotected_key_with_unprotected_true(run_module, bare, source):
    result = run_import(run_module, args(bare, source['other_secret'], passphrase=None, unprotected=True),
                        expect_failure=False)
    assert result['changed'] and result['fingerprint'] == source['other']
    protected = run_import(run_module, args(bare, source['secret'], passphrase=None, unprotected=True),
                           expect_failure=True)
    assert 'protected by a passphrase: give passphrase' in protected['msg']


@pytest.mark.parametrize('check_mode', [True, False])
def test_wrong_passphrase_fails_and_writes_nothing(run_module, bare, source, check_mode):
    result = run_import(run_module, args(bare, source['secret'], passphrase='not the passphrase'),
                        check_mode=check_mode, expect_failure=True)
    assert 'wrong passphrase for key %s' % source['fpr'] in result['msg']
    assert not os.path.exists(bare['home']) and os.listdir(bare['tmp']) == []


@pytest.mark.parametrize('what, message', [
    ('garbage', 'secret_key holds no OpenPGP key'),
    ('path', 'not a file name'),
    ('public', 'holds the public key {fpr} but not its secret key'),
    ('two', 'secret_key holds 2 keys'),
])
def test_bad_secret_key_fails_and_writes_nothing(run_module, bare, source, what, message):
    secret_key = dict(garbage='-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PRIVATE KEY BLOCK-----\n',
                      path=os.path.join(source['root'], 'secret.asc'), public=source['public'],
                      two=source['secret'] + source['other_secret'])[what]
    result = run_module(gpg_key.main, args(bare, secret_key), expect_failure=True)
    assert message.format(fpr=source['fpr']) in result['msg']
    assert_no_secret(json.dumps(result), source['secret'])
    assert not os.path.exists(bare['home']) and os.listdir(bare['tmp']) == []


def test_a_key_rkt_cannot_read_is_refused_with_the_reason(run_module, bare):
    with open(SHORT_SELF_SIGNATURE_KEY) as f:
        short = f.read()
    result = run_module(gpg_key.main, args(bare, short, passphrase=None, unprotected=True), expect_failure=True)
    assert result['msg'].startswith('secret_key holds key %s: its self-signature' % SHORT_SELF_SIGNATURE_FPR)
    assert 'rkt 1.30 cannot verify it' in result['msg'] and result['msg'].endswith('It is not imported.')
    assert not os.path.exists(bare['home'])


@pytest.mark.parametrize('algorithm, message', [
    ('nistp256', "signatures by nistp256 keys; use an RSA key"),
    ('ed25519', "signatures by ed25519 keys; use an RSA key"),
    ('dsa2048', 'a dsa2048 key: gpg_key keeps only RSA keys of 2048 bits or more'),
])
def test_keys_that_are_not_rsa_are_refused(run_module, bare, quick_key, algorithm, message):
    maker = new_home(bare['root'], 'maker')
    gpg = g.open_home(maker)
    fpr = quick_key(gpg, 'Not RSA', algorithm)
    result = run_module(gpg_key.main, args(bare, g.export_secret_key(gpg, fpr), passphrase=None, unprotected=True),
                        expect_failure=True)
    assert message in result['msg'] and fpr in result['msg']
    if algorithm != 'dsa2048':
        assert "rkt 1.30's OpenPGP library" in result['msg']  # the message generating such a key gets
    assert not os.path.exists(bare['home'])


@pytest.mark.parametrize('extra, message', [
    (dict(name_real='Vault signing key'), 'mutually exclusive: secret_key|name_real'),
    (dict(algorithm='rsa4096'), 'mutually exclusive: secret_key|algorithm'),
    (dict(expire='2y'), 'mutually exclusive: secret_key|expire'),
    (dict(state='absent'), 'secret_key is a key to import, with state=present'),
    (dict(passphrase=None), 'set unprotected=true'),
])
def test_options_that_do_not_go_with_secret_key(run_module, bare, source, extra, message):
    result = run_import(run_module, args(bare, source['secret'], **extra), expect_failure=True)
    assert message in result['msg']
    assert not os.path.exists(bare['home'])


def test_the_given_key_joins_a_home_that_holds_another_key(run_module, bare, source, warnings):
    made = run_module(gpg_key.main, dict(gnupghome=bare['home'], name_real='Made here', algorithm='rsa2048',
                                         unprotected=True), expect_failure=False)
    pub = os.path.join(bare['root'], 'pubkeys.gpg')
    result = run_import(run_module, args(bare, source['secret'], public_key_path=pub), expect_failure=False)
    assert result['changed'] and result['fingerprint'] == source['fpr']
    assert any('also holds secret key %s' % made['fingerprint'] in w and 'kept but not used' in w for w in warnings)
    gpg = g.open_home(bare['home'])
    assert sorted(k['fingerprint'] for k in g.list_keys(gpg)) == sorted([made['fingerprint'], source['fpr']])
    assert g.scan_key_file(gpg, pub) == [dict(fingerprint=source['fpr'], secret=False)]


def test_a_newer_export_of_the_key_brings_its_expiry_and_an_older_one_changes_nothing(run_module, bare, source):
    pub = os.path.join(bare['root'], 'pubkeys.gpg')
    first = run_import(run_module, args(bare, source['secret'], public_key_path=pub), expect_failure=False)
    assert first['expires'] is None
    # Extended where it was made: a newer self-signature (gpg's are in whole seconds).
    time.sleep(1.1)
    later = int(time.time()) + 400 * 86400
    g.set_expiry(source['gpg'], source['fpr'], later, PASS)
    try:
        renewed = g.export_secret_key(source['gpg'], source['fpr'], PASS)
        params = args(bare, renewed, public_key_path=pub)
        results = [run_import(run_module, params, check_mode=check_mode, expect_failure=False)
                   for check_mode in (True, False, True, False)]
        assert [r['changed'] for r in results] == [True, True, False, False]
        assert results[0]['expires'] == results[1]['expires'] == g.iso_time(later)
        with open(pub) as f:
            assert f.read() == results[1]['public_key'] != first['public_key']
        # The vault still holds the first export: the home's newer self-signature stays, and nothing loops.
        stale = run_import(run_module, args(bare, source['secret'], public_key_path=pub), expect_failure=False)
        assert not stale['changed'] and stale['expires'] == g.iso_time(later)
    finally:
        g.set_expiry(source['gpg'], source['fpr'], None, PASS)


def test_an_expired_key_is_imported_with_a_warning(run_module, bare, warnings):
    maker = new_home(bare['root'], 'maker')
    gpg = g.open_home(maker)
    while True:
        rc, stderr = g._run(gpg, ['--faked-system-time', '20240101T000000', '--passphrase', '', '--quick-gen-key',
                                  'Old key', 'rsa2048', 'sign', '30d'])
        assert rc == 0, stderr
        key = g.find_keys_by_uid(gpg, 'Old key')[0]
        if g.rkt_problem(key, gpg) is None:
            break
        g.delete_key(gpg, key['fingerprint'])
    result = run_module(gpg_key.main, args(bare, g.export_secret_key(gpg, key['fingerprint']), passphrase=None,
                                           unprotected=True), expect_failure=False)
    assert result['changed'] and result['expires'].startswith('2024-01-31')
    assert any('expired on 2024-01-31' in w and 'it cannot sign' in w for w in warnings)


def test_no_secret_in_results_logs_or_output_at_high_verbosity(run_module, bare, source, monkeypatch, caplog, capsys):
    logged = []
    monkeypatch.setattr(basic.AnsibleModule, 'log', lambda self, msg, log_args=None: logged.append(msg))
    caplog.set_level(logging.DEBUG)  # python-gnupg logs the key data it imports at debug level
    params = dict(args(bare, source['secret'], public_key_path=os.path.join(bare['root'], 'pub.gpg')),
                  _ansible_verbosity=4, _ansible_debug=True)
    results = [run_module(gpg_key.main, params, check_mode=check_mode, diff=True, expect_failure=False)
               for check_mode in (True, False, False)]
    results.append(run_module(gpg_key.main, dict(params, passphrase='wrong'), diff=True, expect_failure=True))
    out = capsys.readouterr()
    for text in [json.dumps(results), caplog.text, out.out, out.err, json.dumps(logged)]:
        assert_no_secret(text, source['secret'])


def test_no_secret_in_ansible_vvv_output(bare, source, ansible_adhoc):
    module_args = args(bare, source['secret'], public_key_path=os.path.join(bare['root'], 'pub.gpg'))
    for passphrase, ok in ((PASS, True), (PASS + ' but wrong', False)):
        module_args['passphrase'] = passphrase
        rc, text = ansible_adhoc('aci.registry.gpg_key', module_args, bare['root'], '--diff')
        assert (rc == 0) == ok, text
        assert (source['fpr'] in text) and ('wrong passphrase' in text) != ok
        assert_no_secret(text, source['secret'])
