# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""x509_cert as a task sees it: check/run/check/run, reasons, file modes, and bad input that changes nothing."""

from __future__ import annotations

import datetime
import json
import os

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from ansible_collections.aci.registry.plugins.module_utils import x509
from ansible_collections.aci.registry.plugins.modules import x509_cert
from ansible_collections.aci.registry.tests.unit.plugins.snapshots import mode_of, read, snapshot


def four_calls(run_module, args):
    """check, run, check, run: a correct module says changed, changed, unchanged, unchanged."""
    results = [run_module(x509_cert.main, args, check_mode=check, expect_failure=False)
               for check in (True, False, True, False)]
    assert [r['changed'] for r in results] == [True, True, False, False], [r['reasons'] for r in results]
    assert results[2]['reasons'] == [] and results[3]['reasons'] == []
    return results


def load_cert(path):
    return cx509.load_pem_x509_certificate(read(path))


@pytest.fixture
def ca(tmp_path, run_module):
    """A CA made by the module itself: {'cert': path, 'key': path}."""
    d = tmp_path / 'ca'
    d.mkdir(mode=0o700)
    args = dict(kind='ca', path=str(d / 'ca.pem'), privatekey_path=str(d / 'ca.key'), key_type='ecdsa',
                subject=dict(common_name='Unit CA'), valid_days=3650)
    run_module(x509_cert.main, args, expect_failure=False)
    return {'cert': str(d / 'ca.pem'), 'key': str(d / 'ca.key'), 'args': args}


def leaf_args(tmp_path, ca, **kw):
    args = dict(kind='leaf', path=str(tmp_path / 'server.pem'), privatekey_path=str(tmp_path / 'server.key'),
                key_type='ecdsa', ca_cert_path=ca['cert'], ca_privatekey_path=ca['key'],
                subject=dict(common_name='registry1'), subject_alt_names=['registry1', 'IP:192.0.2.10'])
    args.update(kw)
    return args


# --- idempotence matrix --------------------------------------------------------------------------

@pytest.mark.parametrize('key', [
    dict(),  # rsa 3072 by default
    dict(key_type='rsa', key_size=2048),
    dict(key_type='rsa', key_size=4096),
    dict(key_type='ecdsa', key_curve='P-384'),
    dict(key_type='ed25519'),
], ids=['rsa-default', 'rsa2048', 'rsa4096', 'p384', 'ed25519'])
def test_ca_four_calls(tmp_path, run_module, key):
    args = dict(kind='ca', path=str(tmp_path / 'ca.pem'), privatekey_path=str(tmp_path / 'ca.key'),
                subject=dict(common_name='CA', organization='Example'), path_length=0, **key)
    results = four_calls(run_module, args)
    assert results[0]['reasons'] == ['key_missing', 'missing']
    assert results[1]['is_ca'] and results[1]['path_length'] == 0
    assert results[1]['subject'] == 'CN=CA,O=Example' == results[1]['issuer']
    expected = dict(x509.KeySpec(key.get('key_type', 'rsa'), key.get('key_size'), key.get('key_curve')).facts())
    assert dict((k, v) for k, v in results[3]['public_key'].items() if k != 'fingerprint') == expected
    assert results[3]['fingerprint'] == results[1]['fingerprint']
    assert mode_of(tmp_path / 'ca.key') == 0o600 and mode_of(tmp_path / 'ca.pem') == 0o644


def test_check_mode_writes_nothing(tmp_path, run_module, ca):
    before = snapshot(tmp_path)
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca), check_mode=True, diff=True, expect_failure=False)
    assert result['changed'] and result['reasons'] == ['key_missing', 'missing']
    assert snapshot(tmp_path) == before
    assert result['diff']['before'] == {}
    assert result['diff']['after']['issuer'] == 'CN=Unit CA'


def test_leaf_four_calls(tmp_path, run_module, ca):
    results = four_calls(run_module, leaf_args(tmp_path, ca, extended_key_usage=['server_auth', 'client_auth']))
    cert = results[1]
    assert cert['issuer'] == 'CN=Unit CA' and cert['subject'] == 'CN=registry1'
    assert cert['subject_alt_names'] == ['DNS:registry1', 'IP:192.0.2.10']
    assert cert['extended_key_usage'] == ['client_auth', 'server_auth']
    assert results[3]['serial'] == cert['serial']
    parsed = load_cert(tmp_path / 'server.pem')
    assert x509.signed_by(parsed, load_cert(ca['cert']).public_key())


def test_csr_then_sign_four_calls(tmp_path, run_module, ca):
    host = tmp_path / 'host'
    host.mkdir()
    csr_args = dict(kind='csr', csr_path=str(host / 'server.csr'), privatekey_path=str(host / 'server.key'),
                    key_type='ecdsa', subject=dict(common_name='registry1'), subject_alt_names=['registry1'])
    csr = four_calls(run_module, csr_args)
    assert csr[1]['csr_path'] == str(host / 'server.csr') and 'serial' not in csr[1]
    assert b'CERTIFICATE REQUEST' in (host / 'server.csr').read_bytes()

    sign_args = dict(kind='sign', csr_src=str(host / 'server.csr'), path=str(tmp_path / 'issued.pem'),
                     ca_cert_path=ca['cert'], ca_privatekey_path=ca['key'])
    signed = four_calls(run_module, sign_args)
    assert signed[1]['subject'] == 'CN=registry1' and signed[1]['subject_alt_names'] == ['DNS:registry1']
    assert signed[1]['public_key']['fingerprint'] == csr[1]['public_key']['fingerprint']

    # The signer's names win over the request's.
    enforced = run_module(x509_cert.main, dict(sign_args, subject_alt_names=['registry1', 'registry1.example.com']))
    assert enforced['reasons'] == ['san_changed']

    # A new key on the host means a new request, and then a new certificate.
    os.unlink(str(host / 'server.key'))
    renewed = run_module(x509_cert.main, csr_args, expect_failure=False)
    assert renewed['reasons'] == ['key_missing', 'key_mismatch']
    resigned = run_module(x509_cert.main, sign_args, expect_failure=False)
    assert resigned['reasons'] == ['key_mismatch', 'san_changed']


# --- reasons through the module ------------------------------------------------------------------

@pytest.mark.parametrize('change, reasons', [
    (dict(subject_alt_names=['registry1']), ['san_changed']),
    (dict(subject=dict(common_name='registry2')), ['subject_changed']),
    (dict(extended_key_usage=['client_auth']), ['usage_changed']),
    (dict(force=True), ['forced']),
    (dict(renew_before_days=400), ['expiring']),
    (dict(key_type='ed25519'), ['key_type_changed', 'key_mismatch']),
    (dict(valid_days=30), []),
])
def test_changes_and_their_reasons(tmp_path, run_module, ca, change, reasons):
    run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=False)
    key_before = (tmp_path / 'server.key').read_bytes()
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca, **change), expect_failure=False)
    assert result['reasons'] == reasons
    assert result['changed'] is bool(reasons)
    key_replaced = 'key_type_changed' in reasons
    assert ((tmp_path / 'server.key').read_bytes() != key_before) is key_replaced


def test_ed25519_leaf_usage_is_only_signing(tmp_path, run_module, ca):
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca, key_type='ed25519'), expect_failure=False)
    assert result['key_usage'] == ['digital_signature']


def test_new_ca_reissues_leaves(tmp_path, run_module, ca):
    run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=False)
    os.unlink(ca['key'])
    run_module(x509_cert.main, ca['args'], expect_failure=False)   # same name, new key
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=False)
    assert result['reasons'] == ['issuer_changed']


def test_path_length_change_is_a_ca_change(tmp_path, run_module, ca):
    args = dict(ca['args'], path_length=1)
    assert run_module(x509_cert.main, args, expect_failure=False)['reasons'] == ['ca_changed']


def _write_cert(path, key, issuer_cert, issuer_key, not_before, not_after, sans=('registry1', '192.0.2.10')):
    """A certificate with chosen dates, as the module would have issued it otherwise."""
    builder = (cx509.CertificateBuilder()
               .subject_name(x509.build_subject({'common_name': 'registry1'}))
               .issuer_name(issuer_cert.subject)
               .public_key(key.public_key())
               .serial_number(cx509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509._key_usage(['digital_signature']), critical=True)
               .add_extension(cx509.ExtendedKeyUsage(x509.eku_oids(['server_auth'])), critical=False)
               .add_extension(cx509.SubjectAlternativeName(x509.parse_sans(list(sans))), critical=False))
    path.write_bytes(builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


@pytest.mark.parametrize('start, end, renew_before, reissued', [
    (-400, -35, 30, True),     # expired a month ago
    (-360, 5, 30, True),       # five days left, renew within 30
    (-300, 65, 30, False),     # two months left
    (-300, 65, 90, True),      # ... but renew within 90
], ids=['expired', 'near', 'fine', 'wider-window'])
def test_expiry_from_certificates_with_past_validity(tmp_path, run_module, ca, start, end, renew_before, reissued):
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / 'server.key').write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_cert = load_cert(ca['cert'])
    ca_key = serialization.load_pem_private_key(read(ca['key']), None)
    _write_cert(tmp_path / 'server.pem', key, ca_cert, ca_key, now + datetime.timedelta(days=start),
                now + datetime.timedelta(days=end))
    os.chmod(str(tmp_path / 'server.key'), 0o600)
    os.chmod(str(tmp_path / 'server.pem'), 0o644)
    args = leaf_args(tmp_path, ca, renew_before_days=renew_before)
    results = [run_module(x509_cert.main, args, check_mode=check, expect_failure=False) for check in (True, False, True, False)]
    if reissued:
        assert [r['reasons'] for r in results] == [['expiring'], ['expiring'], [], []]
        assert x509.not_after(load_cert(tmp_path / 'server.pem')) > now + datetime.timedelta(days=300)
        # A renewal keeps the key.
        assert results[1]['public_key']['fingerprint'] == x509.key_facts(key)['fingerprint']
    else:
        assert [r['changed'] for r in results] == [False] * 4


def test_renewal_window_wider_than_validity_warns(tmp_path, run_module, ca, monkeypatch):
    # The harness's exit_json does not collect warnings; catch them where they are raised.
    warnings = []
    monkeypatch.setattr(x509_cert.AnsibleModule, 'warn', lambda self, msg: warnings.append(msg))
    run_module(x509_cert.main, leaf_args(tmp_path, ca, valid_days=10, renew_before_days=10), expect_failure=False)
    assert any('reissued on every run' in w for w in warnings)
    assert not any('outlives its CA' in w for w in warnings)


def test_passphrase_added_encrypts_without_reissuing(tmp_path, run_module, ca):
    first = run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=False)
    args = leaf_args(tmp_path, ca, privatekey_passphrase='hunter22')
    results = four_calls(run_module, args)
    assert results[1]['reasons'] == ['key_encryption_changed']
    assert results[1]['serial'] == first['serial']
    assert b'ENCRYPTED' in (tmp_path / 'server.key').read_bytes()


# --- files ---------------------------------------------------------------------------------------

def test_modes_owner_and_attribute_only_changes(tmp_path, run_module, ca):
    four_calls(run_module, leaf_args(tmp_path, ca, mode='0640', privatekey_mode='0400'))
    assert mode_of(tmp_path / 'server.pem') == 0o640 and mode_of(tmp_path / 'server.key') == 0o400
    os.chmod(str(tmp_path / 'server.key'), 0o644)
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca, mode='0640', privatekey_mode='0400'), check_mode=True)
    assert result['changed'] and result['reasons'] == [] and mode_of(tmp_path / 'server.key') == 0o644
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca, mode='0640', privatekey_mode='0400'))
    assert result['changed'] and result['reasons'] == [] and mode_of(tmp_path / 'server.key') == 0o400


def test_mode_never_loosens_the_key(tmp_path, run_module, ca):
    run_module(x509_cert.main, leaf_args(tmp_path, ca, mode='0644'), expect_failure=False)
    assert mode_of(tmp_path / 'server.key') == 0o600


def test_backup_of_key_and_certificate(tmp_path, run_module, ca):
    run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=False)
    old_cert = (tmp_path / 'server.pem').read_bytes()
    old_key = (tmp_path / 'server.key').read_bytes()
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca, key_type='ecdsa', key_curve='P-384', backup=True),
                        expect_failure=False)
    assert read(result['backup_file']) == old_cert
    assert read(result['privatekey_backup_file']) == old_key
    assert mode_of(result['privatekey_backup_file']) == 0o600


def test_garbage_certificate_is_replaced(tmp_path, run_module, ca):
    run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=False)
    (tmp_path / 'server.pem').write_bytes(b'not a certificate')
    assert run_module(x509_cert.main, leaf_args(tmp_path, ca))['reasons'] == ['invalid']


def test_diff_shows_facts_never_key_bytes(tmp_path, run_module, ca):
    args = leaf_args(tmp_path, ca, privatekey_passphrase='hunter22')
    first = run_module(x509_cert.main, args, diff=True, expect_failure=False)
    second = run_module(x509_cert.main, dict(args, subject_alt_names=['registry1']), diff=True, expect_failure=False)
    for result in (first, second):
        text = json.dumps(result)
        assert 'PRIVATE' not in text and 'hunter22' not in text and 'BEGIN' not in text
    diff = second['diff']
    assert diff['before']['subject_alt_names'] == ['DNS:registry1', 'IP:192.0.2.10']
    assert diff['after']['subject_alt_names'] == ['DNS:registry1']
    assert diff['before']['serial'] != diff['after']['serial']
    assert diff['before']['public_key'] == diff['after']['public_key']


# --- bad input: a clear message and nothing touched ----------------------------------------------

def _plain_key(tmp_path, name, key):
    path = tmp_path / name
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return str(path)


def _csr_with_key(tmp_path, key, algorithm=hashes.SHA256()):
    csr = (cx509.CertificateSigningRequestBuilder().subject_name(x509.build_subject({'common_name': 'weak'}))
           .sign(key, algorithm))
    path = tmp_path / 'weak.csr'
    path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    return str(path)


def _csr_with_bad_signature(tmp_path):
    # An Ed25519 signature is the last 64 bytes of the DER: changing one leaves a well-formed request.
    csr = cx509.load_pem_x509_csr(read(_csr_with_key(tmp_path, ed25519.Ed25519PrivateKey.generate(), None)))
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    path = tmp_path / 'forged.csr'
    path.write_bytes(cx509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM))
    return str(path)


BAD_INPUT = {
    'malformed SAN': (lambda t, ca: leaf_args(t, ca, subject_alt_names=['registry1', 'DNS:bad host']),
                      "Malformed subject_alt_names entry 'DNS:bad host'"),
    'unsupported SAN type': (lambda t, ca: leaf_args(t, ca, subject_alt_names=['URI:https://x']), "unsupported type 'URI'"),
    'CA key of another CA': (lambda t, ca: leaf_args(t, ca, ca_privatekey_path=_plain_key(t, 'other.key', ec.generate_private_key(ec.SECP256R1()))),
                             'ca_privatekey_path does not match ca_cert_path'),
    'CA cert without CA:TRUE': (lambda t, ca: leaf_args(t, ca, ca_cert_path=str(t / 'server.pem'), ca_privatekey_path=str(t / 'server.key')),
                                'ca_cert_path is not a CA certificate: it lacks basicConstraints CA:TRUE'),
    'wrong key passphrase': (lambda t, ca: leaf_args(t, ca, privatekey_passphrase='wrong', path=str(t / 'enc.pem'),
                                                     privatekey_path=str(t / 'enc.key')),
                             'Cannot decrypt privatekey_path: wrong privatekey_passphrase'),
    'missing key passphrase': (lambda t, ca: leaf_args(t, ca, path=str(t / 'enc.pem'), privatekey_path=str(t / 'enc.key')),
                               'privatekey_path is encrypted; set privatekey_passphrase'),
    'wrong CA passphrase': (lambda t, ca: leaf_args(t, ca, ca_privatekey_path=str(t / 'ca-enc.key'), ca_privatekey_passphrase='nope'),
                            'Cannot decrypt ca_privatekey_path: wrong ca_privatekey_passphrase'),
    'missing CA passphrase': (lambda t, ca: leaf_args(t, ca, ca_privatekey_path=str(t / 'ca-enc.key')),
                              'ca_privatekey_path is encrypted; set ca_privatekey_passphrase'),
    'key path is a directory': (lambda t, ca: leaf_args(t, ca, privatekey_path=str(t)), 'Cannot read privatekey_path'),
    'certificate path is a directory': (lambda t, ca: leaf_args(t, ca, path=str(t)), 'Cannot read path'),
    'CA certificate missing': (lambda t, ca: leaf_args(t, ca, ca_cert_path=str(t / 'nope.pem')), 'ca_cert_path %s/nope.pem does not exist'),
    'CA certificate not PEM': (lambda t, ca: leaf_args(t, ca, ca_cert_path=str(t / 'server.key')), 'ca_cert_path is not a PEM certificate'),
    'request not PEM': (lambda t, ca: dict(kind='sign', csr_src=str(t / 'server.pem'), path=str(t / 'x.pem'),
                                           ca_cert_path=ca['cert'], ca_privatekey_path=ca['key']),
                        'csr_src is not a PEM certificate signing request'),
    'key not PEM': (lambda t, ca: leaf_args(t, ca, privatekey_path=str(t / 'server.pem')), 'privatekey_path is not a PEM private key'),
    'RSA 1024 requested': (lambda t, ca: leaf_args(t, ca, key_type='rsa', key_size=1024), 'value of key_size must be one of: 2048, 3072, 4096'),
    'DSA requested': (lambda t, ca: leaf_args(t, ca, key_type='dsa'), 'value of key_type must be one of: rsa, ecdsa, ed25519'),
    'P-521 requested': (lambda t, ca: leaf_args(t, ca, key_curve='P-521'), 'value of key_curve must be one of: P-256, P-384'),
    'size for an ECDSA key': (lambda t, ca: leaf_args(t, ca, key_size=2048), 'key_size applies to RSA keys only'),
    'RSA 1024 request': (lambda t, ca: dict(kind='sign', csr_src=_csr_with_key(t, rsa.generate_private_key(65537, 1024)),
                                            path=str(t / 'x.pem'), ca_cert_path=ca['cert'], ca_privatekey_path=ca['key']),
                         'csr_src uses an unsupported key (rsa 1024)'),
    # Ed448's key class is _Ed448PublicKey before cryptography 41 and Ed448PublicKey since: either way it is named.
    'Ed448 request': (lambda t, ca: dict(kind='sign', csr_src=_csr_with_key(t, ed448.Ed448PrivateKey.generate(), None),
                                         path=str(t / 'x.pem'), ca_cert_path=ca['cert'], ca_privatekey_path=ca['key']),
                      'csr_src uses an unsupported key (ed448)'),
    'request with a bad signature': (lambda t, ca: dict(kind='sign', csr_src=_csr_with_bad_signature(t), path=str(t / 'x.pem'),
                                                        ca_cert_path=ca['cert'], ca_privatekey_path=ca['key']),
                                     'has an invalid signature: its maker did not hold the key in it'),
    'DSA CA key': (lambda t, ca: leaf_args(t, ca, ca_privatekey_path=_plain_key(t, 'dsa.key', dsa.generate_private_key(2048))),
                   'ca_privatekey_path uses an unsupported key (dsa 2048)'),
    'option of another kind': (lambda t, ca: leaf_args(t, ca, csr_path=str(t / 'x.csr')), 'csr_path does not apply to kind=leaf'),
    'CA without a name': (lambda t, ca: dict(kind='ca', path=str(t / 'ca2.pem'), privatekey_path=str(t / 'ca2.key'),
                                             key_type='ecdsa', subject=dict(organization='x')), 'A CA certificate needs subject.common_name'),
    'key and certificate in one file': (lambda t, ca: leaf_args(t, ca, path=str(t / 'server.key')), 'privatekey_path and path must be different files'),
    'bad country': (lambda t, ca: leaf_args(t, ca, subject=dict(common_name='x', country='Germany')), 'subject.country'),
    # The new key must not be written when its certificate cannot be.
    'missing output directory': (lambda t, ca: leaf_args(t, ca, path=str(t / 'nope' / 'server.pem'), privatekey_path=str(t / 'new.key')),
                                 'directory %s/nope does not exist'),
}


@pytest.mark.parametrize('case', sorted(BAD_INPUT))
def test_bad_input_fails_clearly_and_changes_nothing(tmp_path, run_module, ca, case):
    # Start from a good certificate, an encrypted key pair and an encrypted CA key, so there is something to protect.
    run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=False)
    run_module(x509_cert.main, leaf_args(tmp_path, ca, path=str(tmp_path / 'enc.pem'), privatekey_path=str(tmp_path / 'enc.key'),
                                         privatekey_passphrase='right'), expect_failure=False)
    ca_key = serialization.load_pem_private_key(read(ca['key']), None)
    (tmp_path / 'ca-enc.key').write_bytes(ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                               serialization.BestAvailableEncryption(b'right')))
    make_args, words = BAD_INPUT[case]
    args = make_args(tmp_path, ca)
    before = snapshot(tmp_path)
    # Check mode cannot know a directory will be missing: an earlier task may create it.
    for check_mode in (False,) if case == 'missing output directory' else (True, False):
        result = run_module(x509_cert.main, args, check_mode=check_mode, expect_failure=True)
        assert words.replace('%s', str(tmp_path)) in result['msg']
        assert snapshot(tmp_path) == before


class _SpecSeen(Exception):
    pass


def test_passphrases_are_not_logged(monkeypatch):
    def capture(**kwargs):
        raise _SpecSeen(kwargs['argument_spec'])

    monkeypatch.setattr(x509_cert, 'AnsibleModule', capture)
    with pytest.raises(_SpecSeen) as e:
        x509_cert.main()
    spec = e.value.args[0]
    assert spec['privatekey_passphrase']['no_log'] is True
    assert spec['ca_privatekey_passphrase']['no_log'] is True
    assert spec['privatekey_content']['no_log'] is True


def test_missing_cryptography_is_explained(tmp_path, run_module, ca, monkeypatch):
    monkeypatch.setattr(x509, 'HAS_CRYPTOGRAPHY', False)
    monkeypatch.setattr(x509, 'CRYPTOGRAPHY_IMPORT_ERROR', 'Traceback: No module named cryptography')
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=True)
    assert 'Failed to import the required Python library (cryptography >= 3.4.8)' in result['msg']


def test_old_cryptography_is_refused(tmp_path, run_module, ca, monkeypatch):
    # Debian 11's python3-cryptography: older than any host OS the module supports.
    monkeypatch.setattr(x509, 'CRYPTOGRAPHY_VERSION', '3.3.2')
    before = snapshot(tmp_path)
    result = run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=True)
    assert result['msg'].startswith('x509_cert needs cryptography >= 3.4.8 on the host it runs on; found 3.3.2 for ')
    assert 'python3-cryptography' in result['msg'] and 'ansible_python_interpreter' in result['msg']
    assert snapshot(tmp_path) == before


def test_certificate_outliving_its_ca_warns(tmp_path, run_module, ca, monkeypatch):
    warnings = []
    monkeypatch.setattr(x509_cert.AnsibleModule, 'warn', lambda self, msg: warnings.append(msg))
    run_module(x509_cert.main, leaf_args(tmp_path, ca, valid_days=5000), expect_failure=False)
    assert any('outlives its CA' in w for w in warnings)


def test_check_mode_diff_of_a_key_only_change_keeps_the_certificate(tmp_path, run_module, ca):
    # Only the key file is re-encrypted: the certificate stays, and check mode's diff must not plan a new one.
    run_module(x509_cert.main, leaf_args(tmp_path, ca), expect_failure=False)
    args = leaf_args(tmp_path, ca, privatekey_passphrase='hunter22')
    check = run_module(x509_cert.main, args, check_mode=True, diff=True, expect_failure=False)
    real = run_module(x509_cert.main, args, diff=True, expect_failure=False)
    assert check['reasons'] == real['reasons'] == ['key_encryption_changed']
    assert check['diff'] == real['diff'] and check['diff']['after'] == check['diff']['before']
    assert check['diff']['after']['serial'] == real['serial']
