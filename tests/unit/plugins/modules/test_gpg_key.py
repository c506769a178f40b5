# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci.registry.gpg_key with the real gpg in short-lived GNUPGHOMEs."""

import json
import os
import re
import shutil
import stat
import tempfile
import time

import pytest

from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.plugins.modules import gpg_key
from ansible_collections.aci.registry.tests.unit.plugins.gpg_homes import fast_agent, kill_agent

pytestmark = pytest.mark.skipif(not (shutil.which('gpg') and g.HAS_GNUPG), reason='needs gpg and python-gnupg')

PASS = 'Tr0ub4dor&3 horse'


@pytest.fixture
def bare():
    """A short directory (gpg-agent socket paths are limited) with ``home`` not yet created."""
    root = tempfile.mkdtemp(prefix='gk', dir='/tmp')
    yield dict(root=root, home=os.path.join(root, 'gnupg'))
    for name in os.listdir(root):
        if os.path.isdir(os.path.join(root, name)):
            kill_agent(os.path.join(root, name))
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def work(bare):
    """Like ``bare``, with the home already prepared as the module would (plus FAST_AGENT)."""
    g.prepare_home(bare['home'])
    fast_agent(bare['home'])
    return bare


def args(work, **extra):
    base = dict(gnupghome=work['home'], name_real='ACI signing key', name_email='aci@example.com',
                algorithm='rsa2048', passphrase=PASS)
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def no_secret(result):
    assert PASS not in json.dumps(result)


def four_calls(run_module, params):
    results = []
    for check_mode in (True, False, True, False):
        result = run_module(gpg_key.main, params, check_mode=check_mode, diff=True, expect_failure=False)
        no_secret(result)
        results.append(result)
    assert [r['changed'] for r in results] == [True, True, False, False]
    return results


def test_four_calls_rsa_with_passphrase_files_and_backup(run_module, work):
    pub = os.path.join(work['root'], 'pubkeys.gpg')
    sec = os.path.join(work['root'], 'secret.asc')
    params = args(work, expire='2y', public_key_path=pub, secret_key_backup_path=sec)
    check, run, check2, run2 = four_calls(run_module, params)

    assert not os.path.exists(pub) or run  # check mode wrote nothing before the run
    assert 'fingerprint' not in check
    fpr = run['fingerprint']
    assert re.match(r'^[0-9A-F]{40}$', fpr) and run['key_id'] == fpr[-16:]
    assert run['uid'] == 'ACI signing key <aci@example.com>'
    assert (run['algorithm'], run['key_size']) == ('rsa2048', 2048)
    assert run['created'].endswith('Z') and run['expires'] > run['created']
    for later in (check2, run2):
        assert {k: later[k] for k in ('fingerprint', 'expires', 'public_key')} == \
            {k: run[k] for k in ('fingerprint', 'expires', 'public_key')}

    with open(pub) as f:
        content = f.read()
    assert content == run['public_key'] and content.count('BEGIN PGP PUBLIC KEY BLOCK') == 1
    assert stat.S_IMODE(os.stat(pub).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(sec).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(work['home']).st_mode) == 0o700
    gpg = g.open_home(work['home'])
    assert g.scan_key_file(gpg, sec) == [dict(fingerprint=fpr, secret=True)]
    assert g.scan_key_file(gpg, pub) == [dict(fingerprint=fpr, secret=False)]
    with open(sec) as f:
        assert PASS not in f.read()
    assert 'PRIVATE KEY' not in json.dumps(run['diff'])


def test_four_calls_rsa2048_unprotected(run_module, bare):
    params = args(bare, algorithm='rsa2048', passphrase=None, unprotected=True, name_comment='ci')
    results = four_calls(run_module, params)
    assert results[1]['uid'] == 'ACI signing key (ci) <aci@example.com>'
    assert stat.S_IMODE(os.stat(bare['home']).st_mode) == 0o700
    with open(os.path.join(bare['home'], 'gpg-agent.conf')) as f:
        assert 'default-cache-ttl 0' in f.read()
    assert (results[1]['algorithm'], results[1]['key_size'], results[1]['expires']) == ('rsa2048', 2048, None)


def test_default_algorithm_is_rsa4096(run_module, bare):
    started = time.time()
    result = run_module(gpg_key.main, args(bare, algorithm=None, passphrase=None, unprotected=True),
                        expect_failure=False)
    print('gpg_key generated an RSA 4096 key in %.1f s' % (time.time() - started))
    assert (result['algorithm'], result['key_size']) == ('rsa4096', 4096)


@pytest.mark.parametrize('algorithm', ['nistp256', 'nistp384', 'ed25519', 'cv25519'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_algorithms_rkt_cannot_read_are_refused_before_anything_happens(run_module, bare, algorithm, check_mode):
    pub = os.path.join(bare['root'], 'pubkeys.gpg')
    result = run_module(gpg_key.main, args(bare, algorithm=algorithm, public_key_path=pub), check_mode=check_mode,
                        expect_failure=True)
    # A choice, so the reason is given rather than "value of algorithm must be one of".
    assert "rkt 1.30's OpenPGP library" in result['msg'] and 'reads only RSA and DSA keys' in result['msg']
    assert 'signatures by %s keys' % algorithm in result['msg'] and 'use an RSA key' in result['msg']
    assert os.listdir(bare['root']) == []


def test_refused_algorithm_leaves_an_existing_empty_home_as_it_is(run_module, work):
    before = sorted(os.listdir(work['home']))
    result = run_module(gpg_key.main, args(work, algorithm='nistp256'), expect_failure=True)
    assert "rkt 1.30's OpenPGP library" in result['msg']
    assert sorted(os.listdir(work['home'])) == before == ['gpg-agent.conf']


@pytest.mark.parametrize('algorithm', ['rsa2048', 'nistp256'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_existing_key_rkt_cannot_read_is_reported_not_used(run_module, work, quick_key, algorithm, check_mode):
    """Also when the algorithm asked for is refused too: the key is what the next run meets."""
    gpg = g.open_home(work['home'])
    ec = quick_key(gpg, 'ACI signing key <aci@example.com>', 'nistp256')
    pub = os.path.join(work['root'], 'pubkeys.gpg')
    result = run_module(gpg_key.main, args(work, algorithm=algorithm, public_key_path=pub), check_mode=check_mode,
                        expect_failure=True)
    assert 'gnupghome holds key %s' % ec in result['msg'] and 'signatures by nistp256 keys' in result['msg']
    assert "rkt 1.30's OpenPGP library" in result['msg'] and 'neither used nor replaced' in result['msg']
    assert 'state=absent and fingerprint=%s' % ec in result['msg'] and 'another user id' in result['msg']
    assert [k['fingerprint'] for k in g.list_keys(gpg)] == [ec] and not os.path.exists(pub)


def test_existing_key_rkt_cannot_read_goes_with_state_absent(run_module, work, quick_key):
    ec = quick_key(g.open_home(work['home']), 'ACI signing key <aci@example.com>', 'nistp256')
    gone = run_module(gpg_key.main, dict(gnupghome=work['home'], fingerprint=ec, state='absent'), expect_failure=False)
    assert gone['deleted'] == [ec]
    made = run_module(gpg_key.main, args(work), expect_failure=False)
    assert made['changed'] and made['algorithm'] == 'rsa2048' and made['fingerprint'] != ec


@pytest.mark.parametrize('extra, message', [
    (dict(passphrase=None), 'set unprotected=true'),
    (dict(unprotected=True), 'mutually exclusive'),
    (dict(passphrase='two\nlines'), 'line breaks'),
    (dict(passphrase=' %s ' % PASS), 'whitespace'),
    (dict(expire='whenever'), 'not understood'),
    (dict(name_email='nope'), 'not a plain mail address'),
    (dict(name_real='a\nKey-Type: DSA'), 'control characters'),
    (dict(name_real=None), 'name_real'),
])
def test_bad_parameters(run_module, bare, extra, message):
    result = run_module(gpg_key.main, args(bare, **extra), expect_failure=True)
    assert message in result['msg']
    no_secret(result)
    assert not os.path.exists(bare['home'])


def test_unwritable_public_key_path_fails_before_generating(run_module, bare):
    result = run_module(gpg_key.main, args(bare, public_key_path=os.path.join(bare['root'], 'no', 'pub.gpg')),
                        expect_failure=True)
    assert 'does not exist' in result['msg']
    assert not os.path.exists(bare['home'])


def test_existing_key_checks_passphrase_algorithm_and_protection(run_module, work):
    first = run_module(gpg_key.main, args(work), expect_failure=False)
    wrong = run_module(gpg_key.main, args(work, passphrase='not the passphrase'), expect_failure=True)
    assert 'wrong passphrase' in wrong['msg']
    wrong = run_module(gpg_key.main, args(work, passphrase='not the passphrase'), check_mode=True, expect_failure=True)
    assert 'wrong passphrase' in wrong['msg']
    other = run_module(gpg_key.main, args(work, algorithm='rsa3072'), expect_failure=True)
    assert 'is rsa2048, not rsa3072' in other['msg'] and first['fingerprint'] in other['msg']
    unprotected = run_module(gpg_key.main, args(work, passphrase=None, unprotected=True), expect_failure=True)
    assert 'protected by a passphrase' in unprotected['msg']
    for result in (wrong, other, unprotected):
        no_secret(result)
    assert len(g.list_keys(g.open_home(work['home']))) == 1


def test_changing_expire_moves_the_expiry_of_the_same_key(run_module, work):
    pub = os.path.join(work['root'], 'pub.gpg')
    first = run_module(gpg_key.main, args(work, expire='30d', public_key_path=pub),
                       expect_failure=False)
    assert g.same_expiry(g.parse_expire('30d')['seconds'] + g.get_key(g.open_home(work['home']),
                                                                      first['fingerprint'])['created'],
                         g.get_key(g.open_home(work['home']), first['fingerprint'])['expires'])
    params = args(work, expire='2099-06-30', public_key_path=pub)
    check, run, check2, run2 = four_calls(run_module, params)
    assert check['expires'] == run['expires'] == run2['expires'] == '2099-06-30T12:00:00Z'
    assert run['fingerprint'] == first['fingerprint']
    with open(pub) as f:
        assert f.read() == run['public_key'] != first['public_key']  # the new self-signature is published
    never = run_module(gpg_key.main, args(work, expire='never'), expect_failure=False)
    assert never['changed'] and never['expires'] is None
    bad = run_module(gpg_key.main, args(work, expire='never', passphrase='x'),
                     expect_failure=True)
    assert 'wrong passphrase' in bad['msg']


def test_public_key_path_with_other_keys_is_rewritten_with_exactly_one(run_module, work):
    pub = os.path.join(work['root'], 'pubkeys.gpg')
    other = run_module(gpg_key.main, args(work, name_real='Other key', passphrase=None,
                                          unprotected=True), expect_failure=False)
    mine = run_module(gpg_key.main, args(work), expect_failure=False)
    with open(pub, 'w') as f:
        f.write(other['public_key'] + mine['public_key'])
    result = run_module(gpg_key.main, args(work, public_key_path=pub), diff=True,
                        expect_failure=False)
    assert result['changed']
    assert g.scan_key_file(g.open_home(work['home']), pub) == [dict(fingerprint=mine['fingerprint'], secret=False)]
    assert any(d.get('before_header') == pub for d in result['diff'])


def test_secret_backup_of_another_key_is_replaced(run_module, work):
    sec = os.path.join(work['root'], 'backup.asc')
    other = run_module(gpg_key.main, args(work, name_real='Other key', passphrase=None,
                                          unprotected=True, secret_key_backup_path=sec), expect_failure=False)
    os.chmod(sec, 0o644)
    mine = run_module(gpg_key.main, args(work, secret_key_backup_path=sec),
                      expect_failure=False)
    assert mine['changed']
    assert g.scan_key_file(g.open_home(work['home']), sec) == [dict(fingerprint=mine['fingerprint'], secret=True)]
    assert mine['fingerprint'] != other['fingerprint']
    os.chmod(sec, 0o640)
    fixed = run_module(gpg_key.main, args(work, secret_key_backup_path=sec),
                       expect_failure=False)
    assert fixed['changed'] and stat.S_IMODE(os.stat(sec).st_mode) == 0o600


def test_two_keys_with_the_same_uid_are_not_guessed_between(run_module, work):
    run_module(gpg_key.main, args(work), expect_failure=False)
    gpg = g.open_home(work['home'])
    g.generate_key(gpg, 'ACI signing key', 'aci@example.com', algorithm='rsa2048')
    result = run_module(gpg_key.main, args(work), expect_failure=True)
    assert '2 secret keys' in result['msg']


def test_absent_four_calls_by_uid_and_by_fingerprint(run_module, work):
    made = run_module(gpg_key.main, args(work), expect_failure=False)
    keep = run_module(gpg_key.main, args(work, name_real='Keep me'), expect_failure=False)
    results = four_calls(run_module, dict(gnupghome=work['home'], name_real='ACI signing key',
                                          name_email='aci@example.com', state='absent'))
    assert results[0]['deleted'] == results[1]['deleted'] == [made['fingerprint']]
    assert results[3]['deleted'] == []
    four_calls(run_module, dict(gnupghome=work['home'], fingerprint=keep['fingerprint'], state='absent'))
    assert g.list_keys(g.open_home(work['home'])) == []


def test_absent_needs_a_selector_and_tolerates_a_missing_home(run_module, bare):
    result = run_module(gpg_key.main, dict(gnupghome=bare['home'], state='absent'), expect_failure=True)
    assert 'needs fingerprint' in result['msg']
    result = run_module(gpg_key.main, dict(gnupghome=bare['home'], fingerprint='0' * 40, state='absent'),
                        expect_failure=False)
    assert not result['changed'] and not os.path.exists(bare['home'])


def test_check_mode_on_a_missing_home_creates_nothing(run_module, bare):
    result = run_module(gpg_key.main, args(bare, public_key_path=os.path.join(bare['root'], 'p.gpg')),
                        check_mode=True, diff=True, expect_failure=False)
    assert result['changed'] and result['diff']['after']['uid'] == 'ACI signing key <aci@example.com>'
    assert os.listdir(bare['root']) == []


def test_passphrase_not_in_ansible_vvv_output(work, ansible_adhoc):
    module_args = dict(gnupghome=work['home'], name_real='CLI key', algorithm='rsa2048', passphrase=PASS,
                       public_key_path=os.path.join(work['root'], 'pub.gpg'))
    rc, text = ansible_adhoc('aci.registry.gpg_key', module_args, work['root'])
    assert rc == 0, text
    assert '"changed": true' in text and 'BEGIN PGP PUBLIC KEY BLOCK' in text
    assert PASS not in text
    # A failing run (wrong passphrase) must not echo it either.
    module_args['passphrase'] = PASS + ' but wrong'
    rc, text = ansible_adhoc('aci.registry.gpg_key', module_args, work['root'])
    assert rc != 0 and 'wrong passphrase' in text
    assert PASS not in text


def _rsa_key_made_in_2024(gpg, uid):
    """An unprotected RSA 2048 key created on 2024-01-01 (gpg's faked clock), that rkt can read."""
    while True:
        rc, stderr = g._run(gpg, ['--faked-system-time', '20240101T000000', '--passphrase', '', '--quick-gen-key',
                                  uid, 'rsa2048', 'sign', 'never'])
        assert rc == 0, stderr
        key = g.find_keys_by_uid(gpg, uid)[0]
        if g.rkt_problem(key, gpg) is None:
            return key['fingerprint']
        g.delete_key(gpg, key['fingerprint'])


def test_expiry_in_the_past_fails_in_check_mode_as_in_a_real_run(run_module, work):
    # 30 days from a creation in 2024 is gone: the real run cannot set it, so check mode must not report a change.
    gpg = g.open_home(work['home'])
    old = _rsa_key_made_in_2024(gpg, 'ACI signing key <aci@example.com>')
    params = args(work, passphrase=None, unprotected=True, expire='30d')
    check, real = [run_module(gpg_key.main, params, check_mode=check_mode, expect_failure=True)
                   for check_mode in (True, False)]
    assert check['msg'] == real['msg'] and 'that is in the past' in real['msg'] and old in real['msg']
    assert g.get_key(gpg, old)['expires'] is None


def test_wrong_passphrase_with_a_new_expiry_fails_alike_and_changes_nothing(run_module, work):
    first = run_module(gpg_key.main, args(work), expect_failure=False)
    params = args(work, expire='2y', passphrase='not the passphrase')
    check, real = [run_module(gpg_key.main, params, check_mode=check_mode, expect_failure=True)
                   for check_mode in (True, False)]
    assert check['msg'] == real['msg'] and 'wrong passphrase' in real['msg']
    assert g.get_key(g.open_home(work['home']), first['fingerprint'])['expires'] is None


def test_check_mode_and_absent_leave_an_existing_empty_home_as_it_is(run_module, work):
    # Listing keys would make gpg write pubring.kbx and trustdb.gpg: a home without a keyring holds no key.
    before = sorted(os.listdir(work['home']))
    result = run_module(gpg_key.main, args(work), check_mode=True, diff=True, expect_failure=False)
    assert result['changed'] and 'fingerprint' not in result and result['diff']['before'] == {}
    gone = run_module(gpg_key.main, dict(gnupghome=work['home'], name_real='ACI signing key', state='absent'),
                      expect_failure=False)
    assert gone['deleted'] == [] and not gone['changed']
    assert sorted(os.listdir(work['home'])) == before == ['gpg-agent.conf']


def test_unreadable_public_key_path_fails_with_a_message_before_generating(run_module, bare):
    result = run_module(gpg_key.main, args(bare, public_key_path=bare['root']), expect_failure=True)
    assert result['msg'].startswith('Cannot read public_key_path %s' % bare['root'])
    assert not os.path.exists(bare['home'])
