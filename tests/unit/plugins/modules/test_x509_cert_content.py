# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""x509_cert kind=ca with content and privatekey_content: a CA made elsewhere, checked and written, never made."""

from __future__ import annotations

import datetime
import json
import os

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.aci.registry.plugins.module_utils import x509
from ansible_collections.aci.registry.plugins.modules import x509_cert
from ansible_collections.aci.registry.tests.unit.plugins.snapshots import mode_of, read, snapshot

PASS = 'ca vault passphrase'


def pem_key(key, passphrase=None, fmt=serialization.PrivateFormat.PKCS8):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def make_ca(key=None, days=3650, start_days_ago=1, ca=True, key_usage=('key_cert_sign', 'crl_sign'), signer=None):
    """A CA certificate (PEM) and its key, made the way another tool would."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, 'Vault CA')])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (cx509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(cx509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=start_days_ago))
               .not_valid_after(now - datetime.timedelta(days=start_days_ago) + datetime.timedelta(days=days))
               .add_extension(cx509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if key_usage:
        fields = ('digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment', 'key_agreement',
                  'key_cert_sign', 'crl_sign', 'encipher_only', 'decipher_only')
        builder = builder.add_extension(cx509.KeyUsage(**dict((f, f in key_usage) for f in fields)), critical=True)
    cert = builder.sign(signer or key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key


@pytest.fixture
def given():
    cert, key = make_ca()
    return dict(cert=cert, key=key, key_pem=pem_key(key))


def ca_args(tmp_path, cert, key_pem, **kw):
    args = dict(kind='ca', path=str(tmp_path / 'ca.pem'), privatekey_path=str(tmp_path / 'ca.key'),
                content=cert, privatekey_content=key_pem)
    args.update(kw)
    return args


def assert_no_key_material(result, *key_pems):
    text = json.dumps(result)
    assert 'PRIVATE KEY' not in text and PASS not in text
    for key_pem in key_pems:
        body = [line for line in key_pem.splitlines() if '-----' not in line and len(line) > 16]
        assert not [line for line in body if line in text]


def four_calls(run_module, args, **kwargs):
    results = [run_module(x509_cert.main, args, check_mode=check, diff=True, expect_failure=False, **kwargs)
               for check in (True, False, True, False)]
    assert [r['changed'] for r in results] == [True, True, False, False], [r['reasons'] for r in results]
    for result in results:
        assert_no_key_material(result, args['privatekey_content'])
    return results


def test_four_calls_write_the_given_ca(tmp_path, run_module, given):
    args = ca_args(tmp_path, given['cert'], given['key_pem'])
    check, run, check2, run2 = four_calls(run_module, args)
    assert check['reasons'] == run['reasons'] == ['key_missing', 'missing'] and check2['reasons'] == []
    assert check['diff']['after']['subject'] == 'CN=Vault CA' and check['diff']['before'] == {}
    assert run['is_ca'] and run['fingerprint'] == run2['fingerprint']
    assert x509.load_certificate(read(tmp_path / 'ca.pem'), 'ca.pem') == x509.load_certificate(given['cert'].encode(), 'c')
    written = x509.load_private_key(read(tmp_path / 'ca.key'), None, 'ca.key', 'p')
    assert x509.same_key(written.public_key(), given['key'].public_key())
    assert mode_of(tmp_path / 'ca.key') == 0o600 and mode_of(tmp_path / 'ca.pem') == 0o644


def test_check_mode_writes_nothing(tmp_path, run_module, given):
    before = snapshot(tmp_path)
    result = run_module(x509_cert.main, ca_args(tmp_path, given['cert'], given['key_pem']), check_mode=True,
                        expect_failure=False)
    assert result['changed'] and snapshot(tmp_path) == before


def test_a_state_directory_given_back_as_content_changes_nothing(tmp_path, run_module):
    """Exporting an existing CA into a vault and giving it back: the files it came from stay as they are."""
    made = dict(kind='ca', path=str(tmp_path / 'ca.pem'), privatekey_path=str(tmp_path / 'ca.key'),
                privatekey_passphrase=PASS, subject=dict(common_name='State CA'))
    run_module(x509_cert.main, made, expect_failure=False)
    before = snapshot(tmp_path)
    args = ca_args(tmp_path, read(tmp_path / 'ca.pem').decode(), read(tmp_path / 'ca.key').decode(),
                   privatekey_passphrase=PASS)
    for check_mode in (True, False):
        result = run_module(x509_cert.main, args, check_mode=check_mode, expect_failure=False)
        assert not result['changed'] and result['reasons'] == []
    assert snapshot(tmp_path) == before


def test_encrypted_content_stays_encrypted_and_clear_content_is_encrypted_with_a_passphrase(tmp_path, run_module, given):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    four_calls(run_module, ca_args(tmp_path / 'a', given['cert'], pem_key(given['key'], PASS), privatekey_passphrase=PASS))
    assert b'ENCRYPTED' in read(tmp_path / 'a' / 'ca.key')
    four_calls(run_module, ca_args(tmp_path / 'b', given['cert'], given['key_pem'], privatekey_passphrase=PASS))
    assert x509.load_private_key(read(tmp_path / 'b' / 'ca.key'), PASS, 'ca.key', 'p') is not None
    # As for a CA made here, an encrypted key file is read only with its passphrase, never just overwritten.
    result = run_module(x509_cert.main, ca_args(tmp_path / 'b', given['cert'], given['key_pem']), expect_failure=True)
    assert result['msg'] == 'privatekey_path is encrypted; set privatekey_passphrase.'


def test_a_traditional_openssl_key_is_accepted(tmp_path, run_module, given):
    traditional = pem_key(given['key'], fmt=serialization.PrivateFormat.TraditionalOpenSSL)
    assert 'BEGIN EC PRIVATE KEY' in traditional
    four_calls(run_module, ca_args(tmp_path, given['cert'], traditional))


def test_another_ca_replaces_the_files_with_backups(tmp_path, run_module, given):
    run_module(x509_cert.main, ca_args(tmp_path, given['cert'], given['key_pem']), expect_failure=False)
    cert, key = make_ca()
    result = run_module(x509_cert.main, ca_args(tmp_path, cert, pem_key(key), backup=True), diff=True,
                        expect_failure=False)
    assert result['reasons'] == ['key_changed', 'content_changed']
    assert result['backup_file'] and result['privatekey_backup_file']
    assert result['diff']['before']['fingerprint'] != result['diff']['after']['fingerprint']
    assert read(tmp_path / 'ca.pem').decode() == cert
    assert_no_key_material(result, given['key_pem'], pem_key(key))


def test_the_written_ca_signs_leaves(tmp_path, run_module, given):
    run_module(x509_cert.main, ca_args(tmp_path, given['cert'], given['key_pem']), expect_failure=False)
    leaf = run_module(x509_cert.main, dict(kind='leaf', path=str(tmp_path / 'leaf.pem'),
                                           privatekey_path=str(tmp_path / 'leaf.key'), key_type='ecdsa',
                                           ca_cert_path=str(tmp_path / 'ca.pem'), ca_privatekey_path=str(tmp_path / 'ca.key'),
                                           subject_alt_names=['registry1']), expect_failure=False)
    assert leaf['changed'] and leaf['issuer'] == 'CN=Vault CA'


def test_a_ca_expiring_within_renew_before_days_warns(tmp_path, run_module, warnings):
    cert, key = make_ca(days=20)
    result = run_module(x509_cert.main, ca_args(tmp_path, cert, pem_key(key)), expect_failure=False)
    assert result['changed']
    assert any('expires on' in w and 'within renew_before_days (30)' in w and 'renew it where it was made' in w
               for w in warnings)


def _bad(case, given):
    other_cert, other_key = make_ca()
    cert, key, passphrase = given['cert'], given['key_pem'], None
    if case == 'mismatch':
        cert = other_cert
    elif case == 'not_ca':
        cert = make_ca(key=given['key'], ca=False, key_usage=('digital_signature',))[0]
    elif case == 'no_cert_sign':
        cert = make_ca(key=given['key'], key_usage=('digital_signature', 'crl_sign'))[0]
    elif case == 'expired':
        cert = make_ca(key=given['key'], days=10, start_days_ago=20)[0]
    elif case == 'wrong_passphrase':
        key, passphrase = pem_key(given['key'], PASS), 'not it'
    elif case == 'encrypted_no_passphrase':
        key = pem_key(given['key'], PASS)
    elif case == 'cert_path':
        cert = '/srv/pki/ca.pem'
    elif case == 'key_garbage':
        key = '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n'
    elif case == 'cert_garbage':
        cert = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n'
    return cert, key, passphrase


@pytest.mark.parametrize('case, message', [
    ('mismatch', 'privatekey_content does not match content: that key did not make this CA certificate.'),
    ('not_ca', 'content is not a CA certificate: it lacks basicConstraints CA:TRUE.'),
    ('no_cert_sign', 'content may not sign certificates: its keyUsage lacks keyCertSign.'),
    ('expired', 'content expired on '),
    ('wrong_passphrase', 'Cannot decrypt privatekey_content: wrong privatekey_passphrase.'),
    ('encrypted_no_passphrase', 'privatekey_content is encrypted; set privatekey_passphrase.'),
    ('cert_path', 'content holds no PEM block'),
    ('key_garbage', 'privatekey_content is not a usable PEM private key'),
    ('cert_garbage', 'content is not a PEM certificate.'),
])
@pytest.mark.parametrize('check_mode', [True, False])
def test_bad_content_fails_and_writes_nothing(tmp_path, run_module, given, case, message, check_mode):
    (tmp_path / 'pki').mkdir()
    cert, key, passphrase = _bad(case, given)
    before = snapshot(tmp_path)
    result = run_module(x509_cert.main, ca_args(tmp_path / 'pki', cert, key, privatekey_passphrase=passphrase),
                        check_mode=check_mode, expect_failure=True)
    assert message in result['msg'], result['msg']
    assert snapshot(tmp_path) == before
    assert_no_key_material(result, key, given['key_pem'])


@pytest.mark.parametrize('extra, message', [
    (dict(subject=dict(common_name='CA')), 'mutually exclusive: content|subject'),
    (dict(key_type='rsa'), 'mutually exclusive: content|key_type'),
    (dict(valid_days=10), 'mutually exclusive: content|valid_days'),
    (dict(force=True), 'mutually exclusive: content|force'),
    (dict(privatekey_content=None), 'parameters are required together: content, privatekey_content'),
])
def test_options_that_do_not_go_with_content(tmp_path, run_module, given, extra, message):
    args = dict(ca_args(tmp_path, given['cert'], given['key_pem']), **extra)
    result = run_module(x509_cert.main, {k: v for k, v in args.items() if v is not None}, expect_failure=True)
    assert message in result['msg']
    assert os.listdir(str(tmp_path)) == []


def test_content_is_for_kind_ca_only(tmp_path, run_module, given):
    result = run_module(x509_cert.main, dict(kind='csr', csr_path=str(tmp_path / 'r.csr'), privatekey_path=str(tmp_path / 'k'),
                                             content=given['cert'],
                                             privatekey_content=given['key_pem']), expect_failure=True)
    assert 'content does not apply to kind=csr (only to ca)' in result['msg']
