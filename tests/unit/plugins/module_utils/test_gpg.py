# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/gpg.py against the real gpg, in short-lived GNUPGHOMEs (no mocks of gpg)."""

import os
import shutil
import stat
import tempfile
import time

import pytest

from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.tests.unit.plugins.gpg_homes import fast_agent, kill_agent

pytestmark = pytest.mark.skipif(not (shutil.which('gpg') and g.HAS_GNUPG), reason='needs gpg and python-gnupg')

PASS = 'correct horse battery staple'


class Homes:
    """Short GNUPGHOME paths (gpg-agent's socket paths must stay under ~100 chars), agents killed after."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='gt', dir='/tmp')
        self.homes = []

    def new(self, name='h'):
        home = os.path.join(self.root, name)
        g.prepare_home(home)
        fast_agent(home)
        self.homes.append(home)
        return home

    def close(self):
        for home in self.homes:
            kill_agent(home)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def homes():
    h = Homes()
    yield h
    h.close()


@pytest.fixture(scope='module')
def keyring():
    """One home for the read-only tests: a protected and an unprotected RSA 2048 key."""
    h = Homes()
    home = h.new()
    gpg = g.open_home(home)
    rsa = g.generate_key(gpg, 'Unit RSA', 'rsa@example.com', 'unit test', 'rsa2048', '2y', PASS)
    plain = g.generate_key(gpg, 'Unit plain', 'plain@example.com', None, 'rsa2048', 'never', None)
    data = os.path.join(h.root, 'image.aci')
    with open(data, 'wb') as f:
        f.write(os.urandom(4096))
    yield dict(home=home, gpg=gpg, rsa=rsa, plain=plain, data=data, root=h.root)
    h.close()


# --- parameters ------------------------------------------------------------------------------

@pytest.mark.parametrize('value, kind, extra', [
    ('never', 'never', None),
    ('0', 'never', None),
    ('365', 'period', 365 * 86400),
    ('10d', 'period', 10 * 86400),
    ('2w', 'period', 14 * 86400),
    ('6m', 'period', 180 * 86400),
    ('2y', 'period', 730 * 86400),
    ('2Y', 'period', 730 * 86400),
])
def test_parse_expire_periods(value, kind, extra):
    parsed = g.parse_expire(value)
    assert parsed['kind'] == kind
    assert parsed.get('seconds') == extra


def test_parse_expire_date_is_noon_utc_like_gpg():
    parsed = g.parse_expire('2099-01-02')
    assert parsed['kind'] == 'date' and g.iso_time(parsed['at']) == '2099-01-02T12:00:00Z'


@pytest.mark.parametrize('value', ['soon', '2 years', '-1d', '2020-01-01', '2099-02-30', '1h'])
def test_parse_expire_rejects(value):
    with pytest.raises(g.GpgError):
        g.parse_expire(value)


def test_build_uid():
    assert g.build_uid('ACI signer') == 'ACI signer'
    assert g.build_uid('ACI signer', 'a@example.com') == 'ACI signer <a@example.com>'
    assert g.build_uid('ACI signer', 'a@example.com', 'ci') == 'ACI signer (ci) <a@example.com>'
    assert g.build_uid('Jürgen Ü', None, 'ß') == 'Jürgen Ü (ß)'


@pytest.mark.parametrize('args', [
    ('evil\nKey-Type: DSA',), ('x', 'a@example.com\n%no-protection'), ('a <b>',), ('a', 'not-an-email'),
    ('a', None, 'c (d)'), (' padded',), ('',), (None,),
])
def test_build_uid_rejects_what_would_break_the_parameters(args):
    with pytest.raises(g.GpgError):
        g.build_uid(*args)


def test_fingerprints_are_normalized_and_key_ids_refused():
    fpr = '3BCD C0C7 E3F3 F5D6 A2B3  E1A5 4D3D 2B8C 9E6F 1A2B'
    assert g.normalize_fingerprint(fpr) == '3BCDC0C7E3F3F5D6A2B3E1A54D3D2B8C9E6F1A2B'
    assert g.normalize_fingerprint('0x' + fpr.replace(' ', '').lower()) == '3BCDC0C7E3F3F5D6A2B3E1A54D3D2B8C9E6F1A2B'
    with pytest.raises(g.GpgError, match='40 hexadecimal'):
        g.normalize_fingerprint('4D3D2B8C9E6F1A2B')


@pytest.mark.parametrize('algorithm', ['nistp256', 'nistp384', 'ed25519', 'cv25519'])
def test_algorithms_rkt_cannot_read_are_refused(algorithm):
    assert algorithm in g.REFUSED_ALGORITHMS and algorithm not in g.ALGORITHMS
    with pytest.raises(g.GpgError) as e:
        g.check_algorithm(algorithm)
    assert "rkt 1.30's OpenPGP library" in str(e.value) and 'reads only RSA and DSA keys' in str(e.value)
    assert 'signatures by %s keys' % algorithm in str(e.value) and 'rsa2048, rsa3072, rsa4096' in str(e.value)
    with pytest.raises(g.GpgError, match="rkt 1.30's OpenPGP library"):
        g.key_parameters('A signer', algorithm=algorithm)


def test_only_rsa_keys_are_made():
    assert sorted(g.ALGORITHMS) == ['rsa2048', 'rsa3072', 'rsa4096'] and g.DEFAULT_ALGORITHM == 'rsa4096'
    with pytest.raises(g.GpgError, match="Unknown algorithm 'dsa2048'"):
        g.check_algorithm('dsa2048')


@pytest.mark.parametrize('passphrase', ['', 'two\nlines', 'cr\r', 'nul\x00', ' lead', 'trail '])
def test_passphrases_that_cannot_travel_as_one_line_are_refused(passphrase):
    with pytest.raises(g.GpgError):
        g.check_passphrase_text(passphrase)


def test_key_parameters_protect_or_say_no_protection():
    params = g.key_parameters('A signer', algorithm='rsa2048', passphrase=PASS)
    assert 'Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\n' in params
    assert 'Passphrase: %s\n' % PASS in params and '%no-protection' not in params
    params = g.key_parameters('A signer', algorithm='rsa3072', expire='2099-01-01')
    assert 'Key-Length: 3072' in params and 'Expire-Date: 2099-01-01' in params and '%no-protection' in params


# --- the home --------------------------------------------------------------------------------

def test_prepare_home_creates_private_dir_with_non_caching_agent(homes):
    home = os.path.join(homes.root, 'new')
    assert g.prepare_home(home, check_mode=True) == ['created'] and not os.path.exists(home)
    assert g.prepare_home(home) == ['created']
    homes.homes.append(home)
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    conf = os.path.join(home, 'gpg-agent.conf')
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
    with open(conf) as f:
        assert 'default-cache-ttl 0' in f.read()
    assert g.prepare_home(home) == []


def test_prepare_home_tightens_mode_and_keeps_existing_agent_conf(homes):
    home = os.path.join(homes.root, 'old')
    os.mkdir(home)
    os.chmod(home, 0o755)
    assert g.prepare_home(home, check_mode=True) == ['mode']
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o755
    assert g.prepare_home(home) == ['mode']
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert not os.path.exists(os.path.join(home, 'gpg-agent.conf'))


def test_prepare_home_refuses_a_file_and_a_missing_parent(homes):
    path = os.path.join(homes.root, 'file')
    open(path, 'w').close()
    with pytest.raises(g.GpgError, match='not a directory'):
        g.prepare_home(path)
    with pytest.raises(g.GpgError, match='does not exist'):
        g.prepare_home(os.path.join(homes.root, 'no', 'such'))
    with pytest.raises(g.GpgError, match='does not exist'):
        g.open_home(os.path.join(homes.root, 'absent'))


# --- keys ------------------------------------------------------------------------------------

def test_generated_keys_are_described(keyring):
    rsa = g.get_key(keyring['gpg'], keyring['rsa'])
    assert rsa['uid'] == 'Unit RSA (unit test) <rsa@example.com>'
    assert (rsa['algorithm'], rsa['key_type'], rsa['key_size'], rsa['curve']) == ('rsa2048', 'RSA', 2048, None)
    assert rsa['expires'] - rsa['created'] == 730 * 86400
    assert rsa['secret'] and not rsa['expired'] and not rsa['revoked'] and rsa['subkeys'] == []
    assert 's' in rsa['capabilities'] and 'e' not in rsa['capabilities']  # sign-only
    assert rsa['key_id'] == keyring['rsa'][-16:]
    plain = g.get_key(keyring['gpg'], keyring['plain'])
    assert plain['expires'] is None
    assert g.rkt_problem(rsa) is None and g.rkt_problem(plain) is None
    assert [k['fingerprint'] for k in g.find_keys_by_uid(keyring['gpg'], 'Unit plain <plain@example.com>')] == \
        [keyring['plain']]
    assert g.find_keys_by_uid(keyring['gpg'], 'Unit plain') == []


@pytest.fixture(scope='module')
def big_keys():
    """RSA 3072 and 4096 keys (protected), made once: the 4096 one is timed, and rkt checks both."""
    h = Homes()
    gpg = g.open_home(h.new())
    started = time.time()
    rsa4096 = g.generate_key(gpg, 'Big RSA', algorithm='rsa4096', passphrase=PASS)
    took = time.time() - started
    rsa3072 = g.generate_key(gpg, 'Middle RSA', algorithm='rsa3072', passphrase=PASS)
    yield dict(gpg=gpg, rsa4096=rsa4096, rsa4096_took=took, rsa3072=rsa3072)
    h.close()


def test_rsa4096_generation_does_not_wait_for_entropy(big_keys):
    print('RSA 4096 key generation took %.1f s' % big_keys['rsa4096_took'])
    assert g.get_key(big_keys['gpg'], big_keys['rsa4096'])['algorithm'] == 'rsa4096'
    assert g.get_key(big_keys['gpg'], big_keys['rsa3072'])['algorithm'] == 'rsa3072'
    # gpg 2.2 uses getrandom(); a blocking /dev/random wait would take minutes on an idle VM.
    assert big_keys['rsa4096_took'] < 60


def test_export_public_key_holds_exactly_one_key(keyring):
    armored = g.export_public_key(keyring['gpg'], keyring['rsa'])
    assert armored.count('-----BEGIN PGP PUBLIC KEY BLOCK-----') == 1
    path = os.path.join(keyring['root'], 'pub.asc')
    with open(path, 'w') as f:
        f.write(armored)
    assert g.scan_key_file(keyring['gpg'], path) == [dict(fingerprint=keyring['rsa'], secret=False)]
    # Same key, same bytes: what idempotency of public_key_path relies on.
    assert g.export_public_key(keyring['gpg'], keyring['rsa']) == armored


def test_secret_export_needs_the_passphrase_and_scans_as_one_secret_key(keyring):
    with pytest.raises(g.GpgError, match='wrong passphrase'):
        g.export_secret_key(keyring['gpg'], keyring['rsa'], 'not it')
    armored = g.export_secret_key(keyring['gpg'], keyring['rsa'], PASS)
    assert PASS not in armored and '-----BEGIN PGP PRIVATE KEY BLOCK-----' in armored
    path = os.path.join(keyring['root'], 'sec.asc')
    with open(path, 'w') as f:
        f.write(armored)
    assert g.scan_key_file(keyring['gpg'], path) == [dict(fingerprint=keyring['rsa'], secret=True)]
    assert g.export_secret_key(keyring['gpg'], keyring['plain'])  # unprotected: no passphrase needed


def test_check_passphrase(keyring):
    g.check_passphrase(keyring['gpg'], keyring['rsa'], PASS)
    g.check_passphrase(keyring['gpg'], keyring['plain'], None)
    with pytest.raises(g.GpgError, match='wrong passphrase'):
        g.check_passphrase(keyring['gpg'], keyring['rsa'], 'not it')
    # Right after a good one: the agent of a prepared home caches nothing.
    g.check_passphrase(keyring['gpg'], keyring['rsa'], PASS)
    with pytest.raises(g.GpgError, match='wrong passphrase'):
        g.check_passphrase(keyring['gpg'], keyring['rsa'], 'not it either')
    with pytest.raises(g.GpgError, match='protected by a passphrase'):
        g.check_passphrase(keyring['gpg'], keyring['rsa'], None)


def test_set_expiry_and_delete(homes):
    gpg = g.open_home(homes.new())
    fpr = g.generate_key(gpg, 'Short lived', algorithm='rsa2048', expire='1d', passphrase=PASS)
    key = g.get_key(gpg, fpr)
    target = key['created'] + 400 * 86400
    with pytest.raises(g.GpgError, match='wrong passphrase'):
        g.set_expiry(gpg, fpr, target, 'nope')
    g.set_expiry(gpg, fpr, target, PASS)
    assert g.same_expiry(g.get_key(gpg, fpr)['expires'], target)
    g.set_expiry(gpg, fpr, None, PASS)
    assert g.get_key(gpg, fpr)['expires'] is None
    with pytest.raises(g.GpgError, match='in the past'):
        g.set_expiry(gpg, fpr, int(time.time()) - 10, PASS)
    g.delete_key(gpg, fpr)
    assert g.get_key(gpg, fpr) is None
    g.delete_key(gpg, fpr)  # already gone: nothing to do


def test_passphrase_never_on_a_command_line(homes, monkeypatch):
    seen = []
    real = g.gnupg.GPG.make_args

    def spy(self, args, passphrase):
        cmd = real(self, args, passphrase)
        seen.append(cmd)
        return cmd

    monkeypatch.setattr(g.gnupg.GPG, 'make_args', spy)
    home = homes.new()
    gpg = g.open_home(home)
    fpr = g.generate_key(gpg, 'Spied on', algorithm='rsa2048', expire='1y', passphrase=PASS)
    data = os.path.join(homes.root, 'f')
    with open(data, 'wb') as f:
        f.write(b'x')
    g.sign_detached(gpg, fpr, data, PASS)
    g.check_passphrase(gpg, fpr, PASS)
    g.export_secret_key(gpg, fpr, PASS)
    g.set_expiry(gpg, fpr, None, PASS)
    assert len(seen) >= 5
    for cmd in seen:
        assert not any(PASS in arg for arg in cmd), cmd
        if '--passphrase-fd' in cmd:
            assert '--pinentry-mode' in cmd and cmd[cmd.index('--passphrase-fd') + 1] == '0'


# --- signatures ------------------------------------------------------------------------------

def test_sign_and_verify_detached(keyring):
    # sign_and_check, not sign_detached alone: about 1 RSA signature in 200 is one byte short, and
    # verify_detached refuses it as rkt does (test_rkt_fails_an_rsa_signature_with_a_leading_zero_byte_that_gpg_accepts).
    sig, signer = g.sign_and_check(keyring['gpg'], keyring['rsa'], keyring['data'], PASS)
    assert signer == keyring['rsa'] and sig.startswith(b'-----BEGIN PGP SIGNATURE-----')
    pub = g.export_public_key(keyring['gpg'], keyring['rsa'])
    assert g.verify_detached(pub, keyring['data'], sig) == keyring['rsa']
    assert g.verify_detached(pub.encode('ascii'), keyring['data'], sig.decode('ascii')) == keyring['rsa']
    sig_plain, dummy = g.sign_and_check(keyring['gpg'], keyring['plain'], keyring['data'])
    plain_pub = g.export_public_key(keyring['gpg'], keyring['plain'])
    assert g.verify_detached(plain_pub, keyring['data'], sig_plain) == keyring['plain']
    assert g.sign_and_check(keyring['gpg'], keyring['plain'], keyring['data'])[1] == keyring['plain']


def test_verify_detached_rejects_a_changed_byte(keyring, tmp_path):
    sig, dummy = g.sign_detached(keyring['gpg'], keyring['plain'], keyring['data'])
    with open(keyring['data'], 'rb') as f:
        content = bytearray(f.read())
    content[100] ^= 1
    changed = tmp_path / 'changed.aci'
    changed.write_bytes(bytes(content))
    with pytest.raises(g.SignatureError, match='BAD signature'):
        g.verify_detached(g.export_public_key(keyring['gpg'], keyring['plain']), str(changed), sig)


def test_verify_detached_rejects_another_key_and_non_signatures(keyring, tmp_path):
    sig, dummy = g.sign_detached(keyring['gpg'], keyring['plain'], keyring['data'])
    rsa_pub = g.export_public_key(keyring['gpg'], keyring['rsa'])
    with pytest.raises(g.SignatureError, match='not by the given public key'):
        g.verify_detached(rsa_pub, keyring['data'], sig)
    with pytest.raises(g.SignatureError, match='no OpenPGP signature'):
        g.verify_detached(rsa_pub, keyring['data'], b'not a signature')
    plain_pub = g.export_public_key(keyring['gpg'], keyring['plain'])
    with pytest.raises(g.GpgError, match='exactly one'):
        g.verify_detached(rsa_pub + plain_pub, keyring['data'], sig)
    with pytest.raises(g.GpgError, match='exactly one'):
        g.verify_detached('garbage', keyring['data'], sig)
    with pytest.raises(g.GpgError, match='no such file'):
        g.verify_detached(plain_pub, str(tmp_path / 'missing'), sig)
    twice = sig + g.sign_detached(keyring['gpg'], keyring['plain'], keyring['data'])[0]
    with pytest.raises(g.SignatureError, match='2 signatures'):
        g.verify_detached(plain_pub, keyring['data'], twice)


def test_verify_detached_leaves_no_agent_and_no_temp_home(keyring):
    before = set(os.listdir(tempfile.gettempdir()))
    sig, dummy = g.sign_and_check(keyring['gpg'], keyring['plain'], keyring['data'])
    g.verify_detached(g.export_public_key(keyring['gpg'], keyring['plain']), keyring['data'], sig)
    after = set(os.listdir(tempfile.gettempdir()))
    assert not [n for n in after - before if n.startswith('gpgv.')]


def test_signing_errors_are_plain(keyring, tmp_path):
    gpg = keyring['gpg']
    with pytest.raises(g.GpgError, match='wrong passphrase'):
        g.sign_detached(gpg, keyring['rsa'], keyring['data'], 'wrong')
    with pytest.raises(g.GpgError, match='protected by a passphrase'):
        g.sign_detached(gpg, keyring['rsa'], keyring['data'])
    with pytest.raises(g.GpgError, match='no secret key'):
        g.sign_detached(gpg, '0123456789ABCDEF0123456789ABCDEF01234567', keyring['data'])


def test_expired_and_revoked_keys_cannot_sign(homes, tmp_path):
    home = homes.new()
    gpg = g.open_home(home)
    # A key created in the past with a one-day lifetime is already expired (no sleeping).
    rc, stderr = g._run(gpg, ['--gen-key'], None, b'Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\n'
                        b'Name-Real: Expired key\nCreation-Date: 20200101T000000\nExpire-Date: 1d\n'
                        b'%no-protection\n%commit\n')
    assert rc == 0, stderr
    expired = g.find_keys_by_uid(gpg, 'Expired key')[0]
    assert expired['expired']
    revoked_fpr = g.generate_key(gpg, 'Revoked key', algorithm='rsa2048')
    with open(os.path.join(home, 'openpgp-revocs.d', revoked_fpr + '.rev')) as f:
        # gpg stores the certificate with its armor header masked by a colon, against accidents.
        gpg.import_keys(f.read().replace(':-----BEGIN', '-----BEGIN'))
    revoked = g.get_key(gpg, revoked_fpr)
    assert revoked['revoked']
    data = tmp_path / 'd'
    data.write_bytes(b'data')
    for key in (expired, revoked):
        with pytest.raises(g.GpgError, match='unusable'):
            g.sign_detached(gpg, key['fingerprint'], str(data))


def test_expiry_helpers():
    created = 1_700_000_000
    assert g.wanted_expiry(g.parse_expire('never'), created) is None
    assert g.wanted_expiry(g.parse_expire('1y'), created) == created + 365 * 86400
    assert g.same_expiry(None, None) and not g.same_expiry(None, created)
    assert g.same_expiry(created, created + 60) and not g.same_expiry(created, created + 86400)
    assert g.iso_time(0) == '1970-01-01T00:00:00Z' and g.iso_time(None) is None


# --- keys gpg makes that rkt cannot read ---------------------------------------------------------

@pytest.fixture(scope='module')
def foreign(quick_key):
    """Keys made with gpg directly, of kinds gpg_key does not make: ECDSA and EdDSA, which rkt
    cannot read, and DSA, which it can."""
    h = Homes()
    gpg = g.open_home(h.new())
    fprs = dict((algorithm, quick_key(gpg, 'gpg %s' % algorithm, algorithm))
                for algorithm in ('nistp256', 'nistp384', 'ed25519', 'dsa2048'))
    data = os.path.join(h.root, 'data')
    with open(data, 'wb') as f:
        f.write(os.urandom(4096))
    yield dict(fprs, gpg=gpg, data=data, root=h.root)
    h.close()


def test_rkt_problem_accepts_rsa_and_dsa_only(keyring, foreign):
    dsa = g.get_key(foreign['gpg'], foreign['dsa2048'])
    assert (dsa['algorithm'], dsa['key_type']) == ('dsa2048', 'DSA')
    assert g.rkt_problem(g.get_key(keyring['gpg'], keyring['rsa'])) is None and g.rkt_problem(dsa) is None
    for algorithm, key_type in (('nistp256', 'ECDSA'), ('nistp384', 'ECDSA'), ('ed25519', 'EdDSA')):
        key = g.get_key(foreign['gpg'], foreign[algorithm])
        assert (key['algorithm'], key['key_type']) == (algorithm, key_type)
        problem = g.rkt_problem(key)
        assert "rkt 1.30's OpenPGP library" in problem and 'signatures by %s keys' % algorithm in problem


@pytest.mark.parametrize('algorithm', ['nistp256', 'nistp384', 'ed25519'])
def test_verify_detached_refuses_a_key_rkt_cannot_read_though_gpg_verifies(foreign, algorithm):
    gpg, fpr, data = foreign['gpg'], foreign[algorithm], foreign['data']
    sig, dummy = g.sign_detached(gpg, fpr, data)
    sig_path = os.path.join(foreign['root'], 'data.%s.asc' % algorithm)
    with open(sig_path, 'wb') as f:
        f.write(sig)
    with open(sig_path, 'rb') as f:
        # gpg finds the signature good: a check built on gpg alone would pass what rkt refuses.
        assert g._verify_status(gpg.verify_file(f, data_filename=data).stderr) == fpr
    with pytest.raises(g.RktKeyError) as e:
        g.verify_detached(g.export_public_key(gpg, fpr), data, sig)
    assert str(e.value).startswith('key %s: ' % fpr) and 'signatures by %s keys' % algorithm in str(e.value)


# --- the real rkt ------------------------------------------------------------------------------

RKT_IMAGE = 'example.com/rkt-check'
# What rkt 1.30 says, measured, when the prefix's trusted keys hold a key of this kind.
RKT_REFUSALS = {
    'nistp256': 'openpgp: invalid data: primary key cannot be used for signatures',
    'nistp384': 'openpgp: invalid data: primary key cannot be used for signatures',
    'ed25519': 'openpgp: unsupported feature: public key type: 22',
}


def rkt_id(image_id):
    """rkt names an image by the first 256 bits of its SHA-512, even with --full."""
    return image_id[:len('sha512-') + 64]


def sign_for_rkt(gpg, fpr, image, passphrase=None):
    """Writes ``<image>.asc`` by key ``fpr`` as aci_sign does; returns {fpr: its public key}."""
    if g.rkt_problem(g.get_key(gpg, fpr)):
        # sign_and_check refuses keys rkt cannot read; these tests show what rkt does with them.
        sig, dummy = g.sign_detached(gpg, fpr, str(image), passphrase)
    else:
        sig, dummy = g.sign_and_check(gpg, fpr, str(image), passphrase)
    with open('%s.asc' % image, 'wb') as f:
        f.write(sig)
    return {fpr: g.export_public_key(gpg, fpr)}


@pytest.mark.parametrize('algorithm', ['rsa2048', 'rsa3072', 'rsa4096'])
def test_rkt_verifies_our_rsa_signatures_and_refuses_other_bytes(keyring, big_keys, rkt_fetch, tiny_aci, tmp_path,
                                                                 algorithm):
    gpg, fpr = (keyring['gpg'], keyring['rsa']) if algorithm == 'rsa2048' else (big_keys['gpg'], big_keys[algorithm])
    assert g.get_key(gpg, fpr)['algorithm'] == algorithm
    image = tmp_path / 'image.aci'
    image_id = tiny_aci(image, RKT_IMAGE)
    trusted = sign_for_rkt(gpg, fpr, image, PASS)
    ok = rkt_fetch(image, RKT_IMAGE, trusted)
    assert (ok.returncode, ok.stdout.strip()) == (0, rkt_id(image_id)), ok.stderr
    assert 'signature verified' in ok.stderr
    # A valid image of the same name with the first one's signature: only the signature can fail it.
    other = tmp_path / 'other.aci'
    tiny_aci(other, RKT_IMAGE, 'other bytes')
    shutil.copy('%s.asc' % image, '%s.asc' % other)
    swapped = rkt_fetch(other, RKT_IMAGE, trusted)
    assert swapped.returncode != 0 and 'openpgp: invalid signature' in swapped.stderr, swapped.stderr
    # A flipped byte of the compressed stream: rkt's tar reader may see it before the signature
    # check does (measured: "archive/tar: invalid tar header"); either way nothing is fetched.
    original = image.read_bytes()
    image.write_bytes(original[:100] + bytes([original[100] ^ 0xff]) + original[101:])
    changed = rkt_fetch(image, RKT_IMAGE, trusted)
    assert changed.returncode != 0 and not changed.stdout.strip(), changed.stderr


def test_rkt_refuses_another_key_and_a_missing_signature(keyring, rkt_fetch, tiny_aci, tmp_path):
    image = tmp_path / 'image.aci'
    tiny_aci(image, RKT_IMAGE)
    sign_for_rkt(keyring['gpg'], keyring['plain'], image)
    rsa_only = {keyring['rsa']: g.export_public_key(keyring['gpg'], keyring['rsa'])}
    other_key = rkt_fetch(image, RKT_IMAGE, rsa_only)
    assert other_key.returncode != 0 and 'signature made by unknown entity' in other_key.stderr, other_key.stderr
    os.unlink('%s.asc' % image)
    unsigned = rkt_fetch(image, RKT_IMAGE, rsa_only)
    assert unsigned.returncode != 0 and 'image.aci.asc: no such file' in unsigned.stderr, unsigned.stderr


def test_rkt_verifies_a_dsa_key_as_rkt_problem_says(foreign, rkt_fetch, tiny_aci, tmp_path):
    image = tmp_path / 'image.aci'
    image_id = tiny_aci(image, RKT_IMAGE)
    ok = rkt_fetch(image, RKT_IMAGE, sign_for_rkt(foreign['gpg'], foreign['dsa2048'], image))
    assert (ok.returncode, ok.stdout.strip()) == (0, rkt_id(image_id)), ok.stderr


@pytest.mark.parametrize('algorithm', sorted(RKT_REFUSALS))
def test_rkt_refuses_the_keys_rkt_problem_refuses(foreign, rkt_fetch, tiny_aci, tmp_path, algorithm):
    """Made with gpg directly, signed by gpg, and gpg verifies them: rkt does not."""
    image = tmp_path / 'image.aci'
    tiny_aci(image, RKT_IMAGE)
    refused = rkt_fetch(image, RKT_IMAGE, sign_for_rkt(foreign['gpg'], foreign[algorithm], image))
    assert refused.returncode != 0 and not refused.stdout.strip(), refused.stderr
    assert RKT_REFUSALS[algorithm] in refused.stderr, refused.stderr


def test_one_ecdsa_key_beside_the_signer_fails_every_fetch_of_the_prefix(keyring, foreign, rkt_fetch, tiny_aci,
                                                                         tmp_path):
    """Why the client role must own its prefix directory: rkt reads every key there, and one it
    cannot read fails the fetch even with the signer's good key right beside it."""
    image = tmp_path / 'image.aci'
    image_id = tiny_aci(image, RKT_IMAGE)
    trusted = sign_for_rkt(keyring['gpg'], keyring['plain'], image)
    alone = rkt_fetch(image, RKT_IMAGE, trusted)
    assert (alone.returncode, alone.stdout.strip()) == (0, rkt_id(image_id)), alone.stderr
    trusted[foreign['nistp256']] = g.export_public_key(foreign['gpg'], foreign['nistp256'])
    mixed = rkt_fetch(image, RKT_IMAGE, trusted)
    assert mixed.returncode != 0 and not mixed.stdout.strip(), mixed.stderr
    assert RKT_REFUSALS['nistp256'] in mixed.stderr, mixed.stderr


def short_signature(gpg, fpr, tmp_path, tiny_aci):
    """An image and a signature of it by the 2048-bit key ``fpr`` whose value starts with a zero
    byte, found by signing new images (a few hundred at most, bounded)."""
    for attempt in range(4000):
        image = tmp_path / ('short-%d.aci' % attempt)
        tiny_aci(image, RKT_IMAGE, 'attempt %d' % attempt)
        sig, dummy = g.sign_detached(gpg, fpr, str(image), PASS)
        sig_path = tmp_path / ('short-%d.aci.asc' % attempt)
        sig_path.write_bytes(sig)
        if g._signature_value_bits(gpg, str(sig_path))[0] <= 2040:
            return image, sig
        image.unlink()
        sig_path.unlink()
    pytest.fail('no short signature in 4000 attempts (expected about 1 in 200)')


def test_rkt_fails_an_rsa_signature_with_a_leading_zero_byte_that_gpg_accepts(keyring, rkt_fetch, tiny_aci,
                                                                              tmp_path):
    gpg, fpr = keyring['gpg'], keyring['rsa']
    image, sig = short_signature(gpg, fpr, tmp_path, tiny_aci)
    with open('%s.asc' % image, 'rb') as f:
        assert g._verify_status(gpg.verify_file(f, data_filename=str(image)).stderr) == fpr
    public_key = g.export_public_key(gpg, fpr)
    refused = rkt_fetch(image, RKT_IMAGE, {fpr: public_key})
    assert refused.returncode != 0 and 'RSA verification failure' in refused.stderr, refused.stderr
    # Where gpg and rkt disagree, rkt is right: verification says so, and aci_sign signs again.
    with pytest.raises(g.RktSignatureError) as e:
        g.verify_detached(public_key, str(image), sig)
    assert 'rkt 1.30 fails it with "RSA verification failure"' in str(e.value) and 'sign the file again' in str(e.value)
    assert g.read_signature_signer(public_key, str(image), '%s.asc' % image) is None


def test_sign_and_check_signs_again_until_rkt_can_verify(keyring, rkt_fetch, tiny_aci, tmp_path, monkeypatch):
    gpg, fpr = keyring['gpg'], keyring['rsa']
    image, short = short_signature(gpg, fpr, tmp_path, tiny_aci)
    real_sign, signed, slept = g.sign_detached, [], []

    def sign_short_first(*args):
        signed.append(args)
        return (short, fpr) if len(signed) == 1 else real_sign(*args)

    monkeypatch.setattr(g, 'sign_detached', sign_short_first)
    monkeypatch.setattr(g.time, 'sleep', lambda seconds: (slept.append(seconds), real_sleep(seconds)))
    sig, signer = g.sign_and_check(gpg, fpr, str(image), PASS)
    assert signer == fpr and sig != short and len(signed) >= 2 and slept and slept[0] == 1.0
    with open('%s.asc' % image, 'wb') as f:
        f.write(sig)
    ok = rkt_fetch(image, RKT_IMAGE, {fpr: g.export_public_key(gpg, fpr)})
    assert ok.returncode == 0, ok.stderr


def test_sign_and_check_gives_up_after_its_attempts(keyring, tiny_aci, tmp_path, monkeypatch):
    gpg, fpr = keyring['gpg'], keyring['rsa']
    image, short = short_signature(gpg, fpr, tmp_path, tiny_aci)
    monkeypatch.setattr(g, 'sign_detached', lambda *args: (short, fpr))
    monkeypatch.setattr(g.time, 'sleep', lambda seconds: None)
    with pytest.raises(g.RktSignatureError):
        g.sign_and_check(gpg, fpr, str(image), PASS)


real_sleep = time.sleep


# A throw-away, unprotected test key that gpg made with a self-signature starting with a zero byte
# (found by making keys until one had it, about 1 in 200): rkt cannot read such a key.
SHORT_SELF_SIGNATURE_KEY = os.path.join(os.path.dirname(__file__), 'data', 'short-self-signature.asc')
SHORT_SELF_SIGNATURE_FPR = '4A7B99515F705D78552987814610496B8C1EE77A'


def short_self_signature(gpg):
    """The test key above, imported into ``gpg``'s home."""
    with open(SHORT_SELF_SIGNATURE_KEY, 'rb') as f:
        assert SHORT_SELF_SIGNATURE_FPR in gpg.import_keys(f.read()).fingerprints
    return g.get_key(gpg, SHORT_SELF_SIGNATURE_FPR)


def test_rkt_refuses_a_key_whose_self_signature_starts_with_a_zero_byte(homes, rkt_fetch, tiny_aci, tmp_path):
    gpg = g.open_home(homes.new())
    key = short_self_signature(gpg)
    fpr = key['fingerprint']
    assert 'self-signature' in g.rkt_problem(key, gpg) and 'make a new key' in g.rkt_problem(key, gpg)
    assert g.rkt_problem(key) is None, 'the algorithm alone is fine: only the packets tell'
    image = tmp_path / 'image.aci'
    tiny_aci(image, RKT_IMAGE)
    sig, dummy = g.sign_detached(gpg, fpr, str(image))
    with open('%s.asc' % image, 'wb') as f:
        f.write(sig)
    public_key = g.export_public_key(gpg, fpr)
    refused = rkt_fetch(image, RKT_IMAGE, {fpr: public_key})
    assert refused.returncode != 0 and 'user ID self-signature invalid' in refused.stderr, refused.stderr
    with pytest.raises(g.RktKeyError):
        g.verify_detached(public_key, str(image), sig)
    assert 'self-signature' in g.read_public_keys(public_key)[0]['rkt_problem']


def test_generate_key_makes_another_key_when_rkt_could_not_read_the_first(homes, monkeypatch):
    gpg = g.open_home(homes.new())
    bad = short_self_signature(gpg)['fingerprint']
    real_generate, made = g._generate, []

    def short_first(*args):
        made.append(bad if not made else real_generate(*args))
        return made[-1]

    monkeypatch.setattr(g, '_generate', short_first)
    fpr = g.generate_key(gpg, 'Made again', algorithm='rsa2048')
    assert fpr != bad and len(made) == 2
    assert g.get_key(gpg, bad) is None, 'the unreadable key is deleted'
    assert g.rkt_problem(g.get_key(gpg, fpr), gpg) is None


def test_a_home_too_deep_for_agent_sockets_still_signs(homes, tmp_path):
    deep = os.path.join(homes.root, 'state', 'x' * 80, 'gnupg')
    os.makedirs(os.path.dirname(deep))
    g.prepare_home(deep)
    homes.homes.append(deep)
    gpg = g.open_home(deep)
    fpr = g.generate_key(gpg, 'Deep Home', algorithm='rsa2048')
    data = tmp_path / 'data'
    data.write_bytes(b'signed from a deep home')
    sig, signer = g.sign_detached(gpg, fpr, str(data))
    assert signer == fpr
    assert g.verify_detached(g.export_public_key(gpg, fpr), str(data), sig) == fpr
    with open(os.path.join(deep, 'S.gpg-agent')) as f:
        redirect = f.read()
    sockets = redirect.split('socket=')[1].strip()
    assert redirect.startswith('%Assuan%\n') and len(sockets) < 100
    assert oct(os.stat(os.path.dirname(sockets)).st_mode & 0o777) == '0o700'
    g.open_home(deep)  # a second open rewrites nothing
    with open(os.path.join(deep, 'S.gpg-agent')) as f:
        assert f.read() == redirect


def test_a_socket_directory_others_can_enter_is_refused(homes, monkeypatch, tmp_path):
    monkeypatch.setenv('XDG_RUNTIME_DIR', str(tmp_path))
    deep = os.path.join(homes.root, 'y' * 100)
    g.prepare_home(deep)
    g.redirect_agent_sockets(deep)
    sockets = next(p for p in tmp_path.iterdir() if p.name.startswith('aci-gpg-'))
    sockets.chmod(0o755)
    with pytest.raises(g.GpgError, match='private directory'):
        g.redirect_agent_sockets(deep)
