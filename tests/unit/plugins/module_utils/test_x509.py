# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The x509 backends without a module: names, keys, and every reason to reissue."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from ansible_collections.aci.registry.plugins.module_utils import x509
from ansible_collections.aci.registry.plugins.module_utils.x509 import X509Error

NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def name(cn):
    return x509.build_subject({'common_name': cn})


def pem(key, passphrase=None):
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def make_ca(key=None, cn='Test CA', now=NOW, valid_days=3650):
    key = key or ec_key()
    ca = x509.Certificate(x509.Profile(subject=name(cn), is_ca=True, valid_days=valid_days), now=now)
    ca.generate(key.public_key(), key)
    return x509.Issuer(ca.made, key)


def leaf_profile(**kw):
    args = dict(subject=name('registry'), sans=x509.parse_sans(['registry', '192.0.2.1']), valid_days=90,
                renew_before_days=30)
    args.update(kw)
    return x509.Profile(**args)


def issue(profile, key, issuer, now=NOW):
    cert = x509.Certificate(profile, issuer=issuer, now=now)
    cert.generate(key.public_key(), issuer.key if issuer else key)
    return cert.dump()


def reasons_for(data, profile, key, issuer, now=NOW):
    cert = x509.Certificate(profile, issuer=issuer, now=now)
    cert.set_existing(data)
    return cert.needs_regeneration(key.public_key())


# --- subject alternative names -------------------------------------------------------------------

@pytest.mark.parametrize('entry, text', [
    ('DNS:Registry.Example.COM', 'DNS:registry.example.com'),
    ('dns:a-b.example', 'DNS:a-b.example'),
    ('DNS:*.example.com', 'DNS:*.example.com'),
    ('registry1', 'DNS:registry1'),
    ('IP:192.0.2.7', 'IP:192.0.2.7'),
    ('192.0.2.7', 'IP:192.0.2.7'),
    ('2001:DB8::0:1', 'IP:2001:db8::1'),
    ('IP:2001:db8::1', 'IP:2001:db8::1'),
    ('email:ops@Example.com', 'email:ops@example.com'),
    ('ops@example.com', 'email:ops@example.com'),
])
def test_san_forms(entry, text):
    assert x509.san_text(x509.parse_san(entry)) == text


@pytest.mark.parametrize('entry, words', [
    ('', 'empty'),
    ('DNS:', 'nothing after'),
    ('IP:300.1.1.1', 'not an IPv4 or IPv6'),
    ('IP:10.0.0.0/8', 'not an IPv4 or IPv6'),
    ('URI:https://example.com', "unsupported type 'URI'"),
    ('DNS:bad name', 'not a DNS name'),
    ('DNS:under_score.example', 'not a DNS name'),
    ('DNS:-lead.example', 'not a DNS name'),
    ('DNS:a..b', 'not a DNS name'),
    ('DNS:a.*.example', 'not a DNS name'),
    ('DNS:host.example.', 'trailing dot'),
    ('DNS:bücher.example', 'xn--'),
    ('email:@example.com', 'not an email'),
    ('email:a b@example.com', 'not an email'),
    ('DNS:' + 'a' * 64 + '.example', 'not a DNS name'),
])
def test_malformed_sans_are_named(entry, words):
    with pytest.raises(X509Error) as e:
        x509.parse_san(entry)
    assert words in str(e.value)
    assert 'subject_alt_names' in str(e.value)


def test_sans_drop_duplicates_keep_order():
    names = x509.parse_sans(['b.example', 'DNS:B.example', '192.0.2.1', 'a.example'])
    assert [x509.san_text(n) for n in names] == ['DNS:b.example', 'IP:192.0.2.1', 'DNS:a.example']


def test_subject_rejects_bad_country():
    with pytest.raises(X509Error, match='subject.country'):
        x509.build_subject({'country': 'Germany'})


def test_subject_order_and_empty_fields():
    subject = x509.build_subject({'common_name': 'r1', 'organization': 'Example', 'country': 'DE', 'locality': ''})
    assert subject.rfc4514_string() == 'CN=r1,O=Example,C=DE'


# --- keys ----------------------------------------------------------------------------------------

def test_key_spec_defaults():
    assert x509.KeySpec('rsa').facts() == {'type': 'rsa', 'size': 3072}
    assert x509.KeySpec('ecdsa').facts() == {'type': 'ecdsa', 'curve': 'P-256'}
    assert x509.KeySpec('ed25519').facts() == {'type': 'ed25519'}


@pytest.mark.parametrize('args, words', [
    (('dsa',), 'Unsupported key_type'),
    (('rsa', 1024), 'Unsupported RSA key_size 1024'),
    (('rsa', 8192), 'Unsupported RSA key_size 8192'),
    (('ecdsa', None, 'P-521'), 'Unsupported key_curve'),
    (('ecdsa', 2048), 'key_size applies to RSA keys only'),
    (('rsa', None, 'P-256'), 'key_curve applies to ECDSA keys only'),
])
def test_unsupported_key_specs(args, words):
    with pytest.raises(X509Error, match=words):
        x509.KeySpec(*args)


@pytest.mark.parametrize('spec', [('ecdsa', None, 'P-384'), ('ed25519',), ('rsa', 2048)])
def test_generated_keys_match_their_spec(spec):
    key_spec = x509.KeySpec(*spec)
    key = key_spec.generate()
    assert key_spec.matches(key)
    assert not x509.KeySpec('ecdsa', None, 'P-256').matches(key)


def test_private_key_lifecycle():
    spec = x509.KeySpec('ecdsa')
    key = x509.PrivateKey(spec)
    assert key.needs_regeneration() == ['key_missing'] and key.replaces_key()
    key.generate()
    data = key.dump()
    assert b'BEGIN PRIVATE KEY' in data

    again = x509.PrivateKey(spec)
    again.set_existing(data)
    assert again.needs_regeneration() == []

    other_type = x509.PrivateKey(x509.KeySpec('ed25519'))
    other_type.set_existing(data)
    assert other_type.needs_regeneration() == ['key_type_changed']


def test_passphrase_added_later_reencrypts_the_same_key():
    original = ec_key()
    key = x509.PrivateKey(x509.KeySpec('ecdsa'), passphrase='s3cret')
    key.set_existing(pem(original))
    assert key.needs_regeneration() == ['key_encryption_changed']
    assert not key.replaces_key()
    key.generate()
    data = key.dump()
    assert b'ENCRYPTED' in data
    reloaded = x509.load_private_key(data, 's3cret', 'k', 'p')
    assert x509.same_key(reloaded.public_key(), original.public_key())


def test_passphrase_removed_decrypts():
    key = x509.PrivateKey(x509.KeySpec('ecdsa'))
    with pytest.raises(X509Error, match='is encrypted; set privatekey_passphrase'):
        key.set_existing(pem(ec_key(), b'old'))


@pytest.mark.parametrize('data, passphrase, words', [
    (pem(ec_key(), b'right'), 'wrong', 'Cannot decrypt k: wrong p'),
    (pem(ec_key(), b'right'), None, 'k is encrypted; set p'),
    (b'not a key', None, 'k is not a PEM private key'),
    (b'-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', None, 'k is not a usable PEM private key'),
], ids=['wrong passphrase', 'no passphrase', 'not PEM', 'PEM not a key'])  # a fresh key each run: stable ids for xdist
def test_key_loading_errors(data, passphrase, words):
    with pytest.raises(X509Error) as e:
        x509.load_private_key(data, passphrase, 'k', 'p')
    assert words in str(e.value)


@pytest.mark.parametrize('key, ok', [
    (rsa.generate_private_key(65537, 1024), False),
    (dsa.generate_private_key(2048), False),
    (ec.generate_private_key(ec.SECP521R1()), False),
    (ec.generate_private_key(ec.SECP384R1()), True),
    (ed25519.Ed25519PrivateKey.generate(), True),
])
def test_signing_keys(key, ok):
    if ok:
        x509.check_signing_key(key, 'ca_privatekey_path')
    else:
        with pytest.raises(X509Error, match='ca_privatekey_path uses an unsupported key'):
            x509.check_signing_key(key, 'ca_privatekey_path')


def test_key_facts_never_hold_key_bytes():
    key = ec_key()
    facts = x509.key_facts(key)
    assert set(facts) == {'type', 'curve', 'fingerprint'}
    assert facts == x509.key_facts(key.public_key())


# --- issuers -------------------------------------------------------------------------------------

def test_issuer_checks_ca_flag():
    key = ec_key()
    leaf = issue(leaf_profile(), key, make_ca())
    with pytest.raises(X509Error, match='not a CA certificate: it lacks basicConstraints CA:TRUE'):
        x509.Issuer.load(leaf, pem(key), None)


def test_issuer_checks_key_belongs_to_cert():
    ca = make_ca()
    with pytest.raises(X509Error, match='ca_privatekey_path does not match ca_cert_path'):
        x509.Issuer.load(ca.cert.public_bytes(serialization.Encoding.PEM), pem(ec_key()), None)


def test_issuer_needs_key_cert_sign():
    key = ec_key()
    cert = (cx509.CertificateBuilder().subject_name(name('odd')).issuer_name(name('odd'))
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=1))
            .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509._key_usage(['digital_signature']), critical=True)
            .sign(key, hashes.SHA256()))
    with pytest.raises(X509Error, match='keyUsage lacks keyCertSign'):
        x509.Issuer.load(cert.public_bytes(serialization.Encoding.PEM), pem(key), None)


def test_issuer_with_encrypted_key():
    ca = make_ca()
    cert = ca.cert.public_bytes(serialization.Encoding.PEM)
    assert x509.Issuer.load(cert, pem(ca.key, b'pw'), 'pw').cert == ca.cert
    with pytest.raises(X509Error, match='wrong ca_privatekey_passphrase'):
        x509.Issuer.load(cert, pem(ca.key, b'pw'), 'nope')
    with pytest.raises(X509Error, match='encrypted; set ca_privatekey_passphrase'):
        x509.Issuer.load(cert, pem(ca.key, b'pw'), None)


# --- the reissue matrix --------------------------------------------------------------------------

@pytest.fixture(scope='module')
def ca():
    return make_ca()


@pytest.fixture(scope='module')
def key():
    return ec_key()


@pytest.fixture(scope='module')
def issued(ca, key):
    return issue(leaf_profile(), key, ca)


def test_fresh_certificate_needs_nothing(issued, ca, key):
    assert reasons_for(issued, leaf_profile(), key, ca) == []


def test_missing_and_invalid(ca, key):
    assert reasons_for(None, leaf_profile(), key, ca) == ['missing']
    assert reasons_for(b'garbage', leaf_profile(), key, ca) == ['invalid']


@pytest.mark.parametrize('change, reason', [
    (dict(subject=name('other')), 'subject_changed'),
    (dict(sans=x509.parse_sans(['registry'])), 'san_changed'),
    (dict(extended_key_usage=['server_auth', 'client_auth']), 'usage_changed'),
    (dict(extended_key_usage=[]), 'usage_changed'),
    (dict(force=True), 'forced'),
    (dict(renew_before_days=95), 'expiring'),
])
def test_each_change_has_its_reason(issued, ca, key, change, reason):
    assert reasons_for(issued, leaf_profile(**change), key, ca) == [reason]


def test_valid_days_alone_does_not_reissue(issued, ca, key):
    assert reasons_for(issued, leaf_profile(valid_days=10), key, ca) == []


def test_san_order_and_case_do_not_matter(issued, ca, key):
    assert reasons_for(issued, leaf_profile(sans=x509.parse_sans(['IP:192.0.2.1', 'DNS:REGISTRY'])), key, ca) == []


def test_other_key(issued, ca):
    assert reasons_for(issued, leaf_profile(), ec_key(), ca) == ['key_mismatch']


def test_new_key_counts_as_mismatch(issued, ca):
    cert = x509.Certificate(leaf_profile(), issuer=ca, now=NOW)
    cert.set_existing(issued)
    assert cert.needs_regeneration(None) == ['key_mismatch']


def test_other_ca_with_the_same_name(issued, key):
    # Same subject, different key: only the signature check can tell.
    assert reasons_for(issued, leaf_profile(), key, make_ca(cn='Test CA')) == ['issuer_changed']


def test_other_ca_name(issued, key):
    assert reasons_for(issued, leaf_profile(), key, make_ca(cn='Another CA')) == ['issuer_changed']


def test_leaf_where_a_ca_is_wanted(issued, key):
    cert = x509.Certificate(x509.Profile(subject=name('registry'), is_ca=True), now=NOW)
    cert.set_existing(issued)
    assert cert.needs_regeneration(key.public_key()) == ['san_changed', 'usage_changed', 'ca_changed', 'issuer_changed']


def test_path_length_is_part_of_the_ca_flag():
    key = ec_key()
    ca = make_ca(key)
    cert = x509.Certificate(x509.Profile(subject=name('Test CA'), is_ca=True, path_length=0, valid_days=3650), now=NOW)
    cert.set_existing(ca.cert.public_bytes(serialization.Encoding.PEM))
    assert cert.needs_regeneration(key.public_key()) == ['ca_changed']


@pytest.mark.parametrize('days_left, renew_before, expiring', [
    (-1, 0, True),     # already expired
    (0, 0, True),      # expires right now
    (5, 30, True),     # inside the renewal window
    (31, 30, False),   # just outside it
])
def test_expiry_window(ca, key, days_left, renew_before, expiring):
    # Issued 90 days before it ends; checked days_left days before the end.
    issued_at = NOW + datetime.timedelta(days=days_left - 90)
    data = issue(leaf_profile(), key, ca, now=issued_at)
    reasons = reasons_for(data, leaf_profile(renew_before_days=renew_before), key, ca, now=NOW)
    assert reasons == (['expiring'] if expiring else [])


@pytest.mark.parametrize('ca_key', [
    rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP384R1()), ed25519.Ed25519PrivateKey.generate(),
], ids=['rsa', 'p384', 'ed25519'])
def test_signature_check_for_every_ca_key_type(ca_key, key):
    ca = make_ca(ca_key)
    data = issue(leaf_profile(), key, ca)
    assert reasons_for(data, leaf_profile(), key, ca) == []
    assert x509.signed_by(cx509.load_pem_x509_certificate(data), ca_key.public_key())
    assert not x509.signed_by(cx509.load_pem_x509_certificate(data), ec_key().public_key())


def test_self_signed_ca_is_stable_and_checks_itself():
    key = ec_key()
    ca = make_ca(key)
    data = ca.cert.public_bytes(serialization.Encoding.PEM)
    profile = x509.Profile(subject=name('Test CA'), is_ca=True, valid_days=3650, renew_before_days=30)
    cert = x509.Certificate(profile, now=NOW)
    cert.set_existing(data)
    assert cert.needs_regeneration(key.public_key()) == []
    facts = x509.certificate_facts(ca.cert)
    assert facts['is_ca'] and facts['key_usage'] == ['crl_sign', 'key_cert_sign'] and facts['issuer'] == 'CN=Test CA'


def test_leaf_extensions(issued, ca):
    cert = cx509.load_pem_x509_certificate(issued)
    facts = x509.certificate_facts(cert)
    assert facts['subject_alt_names'] == ['DNS:registry', 'IP:192.0.2.1']
    assert facts['key_usage'] == ['digital_signature'] and facts['extended_key_usage'] == ['server_auth']
    assert not facts['is_ca']
    assert x509.not_before(cert) == NOW - x509.BACKDATE
    assert facts['not_after'] == '2026-08-30T12:00:00Z'
    aki = cert.extensions.get_extension_for_class(cx509.AuthorityKeyIdentifier).value
    ski = ca.cert.extensions.get_extension_for_class(cx509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_rsa_leaf_may_encipher(ca):
    key = rsa.generate_private_key(65537, 2048)
    facts = x509.certificate_facts(cx509.load_pem_x509_certificate(issue(leaf_profile(), key, ca)))
    assert facts['key_usage'] == ['digital_signature', 'key_encipherment']


def test_san_only_certificate_marks_sans_critical(ca, key):
    data = issue(leaf_profile(subject=x509.build_subject({})), key, ca)
    ext = cx509.load_pem_x509_certificate(data).extensions.get_extension_for_class(cx509.SubjectAlternativeName)
    assert ext.critical


def test_profile_checks():
    with pytest.raises(X509Error, match='needs subject.common_name'):
        x509.Profile(subject=x509.build_subject({'organization': 'x'}), is_ca=True).check('ca')
    with pytest.raises(X509Error, match='would name nothing'):
        x509.Profile(subject=x509.build_subject({}), sans=[]).check('leaf')
    with pytest.raises(X509Error, match='valid_days'):
        leaf_profile(valid_days=0).check('leaf')
    with pytest.raises(X509Error, match='renew_before_days'):
        leaf_profile(renew_before_days=-1).check('leaf')


# --- signing requests ----------------------------------------------------------------------------

def test_csr_matrix(key):
    csr = x509.SigningRequest(leaf_profile())
    assert csr.needs_regeneration(key.public_key()) == ['missing']
    csr.generate(key)
    data = csr.dump()

    def check(profile, k=key):
        again = x509.SigningRequest(profile)
        again.set_existing(data)
        return again.needs_regeneration(k.public_key())

    assert check(leaf_profile()) == []
    assert check(leaf_profile(valid_days=5, renew_before_days=100)) == []   # validity is the signer's business
    assert check(leaf_profile(subject=name('x'))) == ['subject_changed']
    assert check(leaf_profile(sans=[])) == ['san_changed']
    assert check(leaf_profile(extended_key_usage=['client_auth'])) == ['usage_changed']
    assert check(leaf_profile(force=True)) == ['forced']
    assert check(leaf_profile(), ec_key()) == ['key_mismatch']

    garbage = x509.SigningRequest(leaf_profile())
    garbage.set_existing(b'nope')
    assert garbage.needs_regeneration(key.public_key()) == ['invalid']


def test_sign_takes_names_from_the_request(key):
    csr = x509.SigningRequest(leaf_profile())
    csr.generate(key)
    profile = x509.Profile()
    profile.fill_from_csr(csr.made)
    assert profile.subject == name('registry')
    assert profile.san_texts() == ['DNS:registry', 'IP:192.0.2.1']
    given = x509.Profile(subject=name('mine'), sans=[])
    given.fill_from_csr(csr.made)
    assert given.subject == name('mine') and given.sans == []


# --- compatibility -------------------------------------------------------------------------------

class _OldCertificate:
    """What cryptography < 42 offers: naive UTC datetimes, no *_utc properties."""
    not_valid_before = datetime.datetime(2026, 1, 1, 0, 0, 0)
    not_valid_after = datetime.datetime(2027, 1, 1, 0, 0, 0)


def test_naive_dates_of_old_cryptography_are_utc():
    assert x509.not_after(_OldCertificate()) == datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)
    assert x509.not_before(_OldCertificate()).tzinfo is datetime.timezone.utc


# Debian 11's 3.3.2 and the patch releases before Ubuntu 22.04's 3.4.8 are too old; the host releases
# make crypto-compat tests (and the controller's 46) are not.
@pytest.mark.parametrize('version, ok', [
    ('3.3.2', False), ('3.4.7', False), ('2.8', False),
    ('3.4.8', True), ('36.0.1', True), ('38.0.4', True), ('41.0.7', True), ('46.0.7', True), ('100.0', True),
])
def test_version_floor(version, ok):
    assert x509.version_ok(version) is ok
