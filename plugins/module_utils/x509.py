# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private keys, X.509 certificates and CSRs for the x509_cert module.

Each file the module maintains is one backend with the same life cycle: ``set_existing(bytes)``
parses what is on disk, ``needs_regeneration(...)`` says why it must be replaced (a list of reason
words, empty when it is fine), ``generate(...)`` makes the replacement in memory and ``dump()``
gives its bytes. Nothing here writes a file: ``x509_cert_state`` reads every input, asks these
backends, and only then writes.

This also runs on managed hosts with their distribution's python3-cryptography, as old as Ubuntu
22.04's 3.4.8 (RHEL 9 has 36.0.1, Debian 12 38.0.4, Ubuntu 24.04 41.0.7; ``make crypto-compat``
tests each). Only APIs that 3.4.8 has are used, called without the ``backend`` argument (optional
since 3.1). What newer releases renamed or added is bridged here and only here, in the shims marked
"compat:": ``not_before``/``not_after`` (the ``*_utc`` properties are 42+) and ``signed_by``
(``verify_directly_issued_by`` is 40+). Other files ask these helpers, never the version.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import sys
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import cryptography
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
    CRYPTOGRAPHY_VERSION = None
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
    CRYPTOGRAPHY_VERSION = cryptography.__version__

# The oldest python3-cryptography of a host OS this module supports (Ubuntu 22.04's); the Makefile's
# HOST_CRYPTOGRAPHY starts with it, and tests/unit/test_host_crypto.py keeps the two the same.
MIN_CRYPTOGRAPHY_VERSION = '3.4.8'

KEY_TYPES = ('rsa', 'ecdsa', 'ed25519')
RSA_KEY_SIZES = (2048, 3072, 4096)
DEFAULT_RSA_KEY_SIZE = 3072
CURVES = {'P-256': 'secp256r1', 'P-384': 'secp384r1'}
DEFAULT_CURVE = 'P-256'
EXTENDED_KEY_USAGES = ('server_auth', 'client_auth')

# Clocks of the signing controller and the serving host drift; a certificate that starts an hour
# early is not rejected as "not yet valid" by a host that is a few minutes behind.
BACKDATE = datetime.timedelta(hours=1)

# Reasons in the order they are reported; key_changed and content_changed only for a CA given as content.
KEY_REASONS = ('key_missing', 'key_type_changed', 'key_changed', 'key_encryption_changed')
REASONS = ('missing', 'invalid', 'forced', 'content_changed', 'key_mismatch', 'subject_changed', 'san_changed',
           'usage_changed', 'ca_changed', 'issuer_changed', 'expiring')

# Subject fields in the order they appear in the certificate (most general first).
SUBJECT_FIELDS = (
    ('country', 'COUNTRY_NAME'),
    ('state_or_province', 'STATE_OR_PROVINCE_NAME'),
    ('locality', 'LOCALITY_NAME'),
    ('organization', 'ORGANIZATION_NAME'),
    ('organizational_unit', 'ORGANIZATIONAL_UNIT_NAME'),
    ('common_name', 'COMMON_NAME'),
    ('email_address', 'EMAIL_ADDRESS'),
)

_DNS_LABEL = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
_SAN_TYPE = re.compile(r'^[A-Za-z][A-Za-z0-9]*$')


class X509Error(Exception):
    """Bad input: the message is shown to the user as is, and nothing has been written."""


def version_ok(version=None):
    """Whether the installed cryptography is recent enough for this code."""
    def parts(v):
        # Three parts: the floor is a patch release (3.4.8), the one that is tested.
        return tuple(int(p) for p in re.findall(r'\d+', v)[:3])
    return parts(version or CRYPTOGRAPHY_VERSION or '0') >= parts(MIN_CRYPTOGRAPHY_VERSION)


def require_cryptography(module):
    """Fail the module unless a recent enough cryptography is installed where it runs."""
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography >= %s' % MIN_CRYPTOGRAPHY_VERSION),
                         exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if not version_ok():
        module.fail_json(msg='x509_cert needs cryptography >= %s on the host it runs on; found %s for %s. Upgrade the '
                         'python3-cryptography package (Ubuntu 22.04, RHEL 9, Debian 12 and later ship one new enough), '
                         'or set ansible_python_interpreter to a Python that has cryptography >= %s.'
                         % (MIN_CRYPTOGRAPHY_VERSION, CRYPTOGRAPHY_VERSION, sys.executable, MIN_CRYPTOGRAPHY_VERSION))


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _aware(cert, name):
    # compat: cryptography 42 added the *_utc properties and deprecated the naive ones, which are all
    # that 3.4.8 to 41 have (naive datetimes in UTC).
    value = getattr(cert, name + '_utc', None)
    if value is None:
        value = getattr(cert, name).replace(tzinfo=datetime.timezone.utc)
    return value


def not_before(cert):
    return _aware(cert, 'not_valid_before')


def not_after(cert):
    return _aware(cert, 'not_valid_after')


def iso_utc(when):
    return when.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _colon_hex(data):
    return ':'.join('%02X' % b for b in bytearray(data))


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_key(a, b):
    return a is not None and b is not None and _spki(a) == _spki(b)


# --- keys -----------------------------------------------------------------------------------------

def key_facts(key):
    """Type, size/curve and SPKI fingerprint of a public or private key: never key bytes."""
    public_key = key.public_key() if hasattr(key, 'private_bytes') else key
    if isinstance(public_key, rsa.RSAPublicKey):
        facts = {'type': 'rsa', 'size': public_key.key_size}
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        names = dict((v, k) for k, v in CURVES.items())
        facts = {'type': 'ecdsa', 'curve': names.get(public_key.curve.name, public_key.curve.name)}
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        facts = {'type': 'ed25519'}
    elif isinstance(public_key, dsa.DSAPublicKey):
        facts = {'type': 'dsa', 'size': public_key.key_size}
    else:
        facts = {'type': re.sub(r'^_|PublicKey$', '', type(public_key).__name__).lower()}
    facts['fingerprint'] = _colon_hex(_sha256(_spki(public_key)))
    return facts


def _sha256(data):
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def check_signing_key(key, what):
    """Refuse key types this module does not sign with or certify (weak or exotic ones)."""
    facts = key_facts(key)
    if facts['type'] == 'rsa' and facts['size'] >= 2048:
        return
    if facts['type'] == 'ecdsa' and facts['curve'] in CURVES:
        return
    if facts['type'] == 'ed25519':
        return
    detail = ' '.join(str(facts[k]) for k in ('type', 'size', 'curve') if k in facts)
    raise X509Error('%s uses an unsupported key (%s); supported are RSA of 2048 bits or more, '
                    'ECDSA %s and Ed25519.' % (what, detail, '/'.join(sorted(CURVES))))


def signature_hash(key):
    """The digest to sign with: none for Ed25519, SHA-384 for P-384, SHA-256 otherwise."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == CURVES['P-384']:
        return hashes.SHA384()
    return hashes.SHA256()


def signed_by(cert, public_key):
    """Whether ``public_key`` made the signature of ``cert``.

    compat: ``verify_directly_issued_by`` is 40+ and wants the issuer's certificate; this checks the
    signature itself, with the calls 3.4.8 has, for the key types this module issues with.
    """
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        # RSA-PSS, mismatched key types and the like: not something this module issued.
        return False
    return True


def _is_encrypted(data):
    # PKCS#8 says "BEGIN ENCRYPTED PRIVATE KEY"; traditional OpenSSL PEM has "Proc-Type: 4,ENCRYPTED".
    return b'ENCRYPTED' in data


def load_private_key(data, passphrase, what, passphrase_option):
    """Parse a PEM private key, explaining passphrase problems in words; raises X509Error."""
    if b'-----BEGIN' not in data or b'PRIVATE KEY-----' not in data:
        raise X509Error('%s is not a PEM private key.' % what)
    encrypted = _is_encrypted(data)
    if encrypted and not passphrase:
        raise X509Error('%s is encrypted; set %s.' % (what, passphrase_option))
    try:
        return serialization.load_pem_private_key(data, password=passphrase.encode('utf-8') if encrypted else None)
    except (ValueError, TypeError) as e:
        if encrypted:
            raise X509Error('Cannot decrypt %s: wrong %s.' % (what, passphrase_option))
        raise X509Error('%s is not a usable PEM private key (%s).' % (what, e.args[0] if e.args else e))
    except UnsupportedAlgorithm as e:
        raise X509Error('%s uses an unsupported key type (%s).' % (what, e))


def load_certificate(data, what):
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise X509Error('%s is not a PEM certificate.' % what)


def load_csr(data, what):
    try:
        return x509.load_pem_x509_csr(data)
    except ValueError:
        raise X509Error('%s is not a PEM certificate signing request.' % what)


class KeySpec:
    """The requested key type: ``rsa`` (2048/3072/4096 bits), ``ecdsa`` (P-256/P-384) or ``ed25519``."""

    def __init__(self, key_type='rsa', size=None, curve=None):
        if key_type not in KEY_TYPES:
            raise X509Error('Unsupported key_type %r; use one of %s.' % (key_type, ', '.join(KEY_TYPES)))
        if size is not None and key_type != 'rsa':
            raise X509Error('key_size applies to RSA keys only; for %s leave it unset.' % key_type)
        if curve is not None and key_type != 'ecdsa':
            raise X509Error('key_curve applies to ECDSA keys only; for %s leave it unset.' % key_type)
        if key_type == 'rsa':
            size = DEFAULT_RSA_KEY_SIZE if size is None else size
            if size not in RSA_KEY_SIZES:
                raise X509Error('Unsupported RSA key_size %s; use one of %s.' % (size, ', '.join(str(s) for s in RSA_KEY_SIZES)))
        if key_type == 'ecdsa':
            curve = DEFAULT_CURVE if curve is None else curve
            if curve not in CURVES:
                raise X509Error('Unsupported key_curve %r; use one of %s.' % (curve, ', '.join(sorted(CURVES))))
        self.key_type, self.size, self.curve = key_type, size, curve

    def facts(self):
        facts = {'type': self.key_type}
        if self.size:
            facts['size'] = self.size
        if self.curve:
            facts['curve'] = self.curve
        return facts

    def matches(self, key):
        facts = key_facts(key)
        facts.pop('fingerprint')
        return facts == self.facts()

    def generate(self):
        if self.key_type == 'rsa':
            return rsa.generate_private_key(public_exponent=65537, key_size=self.size)
        if self.key_type == 'ecdsa':
            return ec.generate_private_key(getattr(ec, CURVES[self.curve].upper())())
        return ed25519.Ed25519PrivateKey.generate()


class _File:
    """One file the module keeps: what is there (``existing``) and what ``generate`` made for it (``made``)."""

    def __init__(self):
        self.existing = None
        self.made = None

    def set_existing(self, data):
        """Take in the file's bytes (None: there is no file)."""
        if data is not None:
            self._parse(data)

    @property
    def current(self):
        return self.made or self.existing

    def facts(self):
        return self._facts(self.current) if self.current is not None else {}


class PrivateKey(_File):
    """The private key file: kept while it matches the spec, re-encrypted when only the passphrase changed."""

    def __init__(self, spec, passphrase=None, what='privatekey_path', passphrase_option='privatekey_passphrase'):
        super().__init__()
        self.spec = spec
        self.passphrase = passphrase or None
        self.what = what
        self.passphrase_option = passphrase_option
        self.existing_encrypted = False

    def _parse(self, data):
        self.existing_encrypted = _is_encrypted(data)
        # A passphrase for a key stored in clear is a request to encrypt it, not an error.
        passphrase = self.passphrase if self.existing_encrypted else None
        self.existing = load_private_key(data, passphrase, self.what, self.passphrase_option)

    def _facts(self, key):
        return key_facts(key)

    def needs_regeneration(self):
        if self.existing is None:
            return ['key_missing']
        if not self.spec.matches(self.existing):
            return ['key_type_changed']
        if self.existing_encrypted != bool(self.passphrase):
            return ['key_encryption_changed']
        return []

    def replaces_key(self):
        """Whether regeneration makes a new key (not just a re-encrypted file)."""
        return bool(set(self.needs_regeneration()) & {'key_missing', 'key_type_changed'})

    def generate(self):
        self.made = self.spec.generate() if self.replaces_key() else self.existing

    def dump(self):
        if self.passphrase:
            encryption = serialization.BestAvailableEncryption(self.passphrase.encode('utf-8'))
        else:
            encryption = serialization.NoEncryption()
        return self.made.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


class GivenKey(PrivateKey):
    """The private key file of a CA made elsewhere: it must hold ``given``, encrypted when a passphrase is set."""

    def __init__(self, given, passphrase=None):
        super().__init__(None, passphrase)
        self.given = given

    def needs_regeneration(self):
        if self.existing is None:
            return ['key_missing']
        if not same_key(self.existing.public_key(), self.given.public_key()):
            return ['key_changed']
        if self.existing_encrypted != bool(self.passphrase):
            return ['key_encryption_changed']
        return []

    def replaces_key(self):
        return True

    def generate(self):
        self.made = self.given


# --- names and usages ----------------------------------------------------------------------------

def build_subject(subject):
    """``x509.Name`` from the module's subject dict (unset fields are left out)."""
    attributes = []
    for option, oid_name in SUBJECT_FIELDS:
        value = (subject or {}).get(option)
        if value is None or value == '':
            continue
        try:
            attributes.append(x509.NameAttribute(getattr(NameOID, oid_name), str(value)))
        except ValueError as e:
            raise X509Error('subject.%s %r is not valid: %s' % (option, value, e))
    return x509.Name(attributes)


def _dns_name(value, entry):
    name = value.lower()
    if name.endswith('.'):
        raise X509Error('Malformed subject_alt_names entry %r: leave out the trailing dot.' % entry)
    try:
        name.encode('ascii')
    except UnicodeEncodeError:
        raise X509Error('Malformed subject_alt_names entry %r: write internationalized names in their '
                        'ASCII (xn--) form.' % entry)
    labels = name.split('.')
    if labels[0] == '*' and len(labels) > 2:
        labels = labels[1:]
    if len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise X509Error('Malformed subject_alt_names entry %r: not a DNS name (letters, digits and inner '
                        'hyphens, dot-separated; a wildcard only as the whole first label).' % entry)
    return x509.DNSName(name)


def parse_san(entry):
    """One ``DNS:name``, ``IP:address`` or ``email:address`` (or a bare name/address) to a GeneralName."""
    if not isinstance(entry, str) or not entry.strip():
        raise X509Error('Malformed subject_alt_names entry %r: empty.' % (entry,))
    text = entry.strip()
    prefix, sep, rest = text.partition(':')
    kind = prefix.lower() if sep else None
    if kind not in ('dns', 'ip', 'email'):
        try:
            return x509.IPAddress(ipaddress.ip_address(text))
        except ValueError:
            pass
        if sep and _SAN_TYPE.match(prefix):
            raise X509Error('Malformed subject_alt_names entry %r: unsupported type %r; use DNS:, IP: or email:.'
                            % (entry, prefix))
        kind, rest = ('email' if '@' in text else 'dns'), text
    if not rest:
        raise X509Error('Malformed subject_alt_names entry %r: nothing after the type.' % entry)
    if kind == 'ip':
        try:
            return x509.IPAddress(ipaddress.ip_address(rest))
        except ValueError:
            raise X509Error('Malformed subject_alt_names entry %r: %r is not an IPv4 or IPv6 address.' % (entry, rest))
    if kind == 'email':
        local, at, domain = rest.rpartition('@')
        if not at or not local or re.search(r'\s', local):
            raise X509Error('Malformed subject_alt_names entry %r: not an email address.' % entry)
        _dns_name(domain, entry)
        return x509.RFC822Name('%s@%s' % (local, domain.lower()))
    return _dns_name(rest, entry)


def parse_sans(entries):
    """Validated GeneralNames without duplicates, in the order given."""
    names, seen = [], set()
    for entry in entries or []:
        name = parse_san(entry)
        if san_text(name) not in seen:
            seen.add(san_text(name))
            names.append(name)
    return names


def san_text(name):
    """``DNS:...``/``IP:...``/``email:...`` for one GeneralName, normalized for comparison."""
    if isinstance(name, x509.DNSName):
        return 'DNS:' + name.value.lower()
    if isinstance(name, x509.IPAddress):
        return 'IP:' + str(name.value)
    if isinstance(name, x509.RFC822Name):
        return 'email:' + name.value
    if isinstance(name, x509.UniformResourceIdentifier):
        return 'URI:' + name.value
    return '%s:%s' % (type(name).__name__, getattr(name, 'value', ''))


def _extension(extensions, ext_class):
    try:
        return extensions.get_extension_for_class(ext_class).value
    except x509.ExtensionNotFound:
        return None


def sans_of(obj):
    value = _extension(obj.extensions, x509.SubjectAlternativeName)
    return [san_text(name) for name in value] if value is not None else []


_EKU_OIDS = {
    'server_auth': 'SERVER_AUTH',
    'client_auth': 'CLIENT_AUTH',
}


def eku_oids(names):
    return [getattr(ExtendedKeyUsageOID, _EKU_OIDS[name]) for name in names]


def eku_names(obj):
    value = _extension(obj.extensions, x509.ExtendedKeyUsage)
    if value is None:
        return []
    by_oid = dict((getattr(ExtendedKeyUsageOID, v), k) for k, v in _EKU_OIDS.items())
    return sorted(by_oid.get(oid, oid.dotted_string) for oid in value)


_KEY_USAGE_FIELDS = ('digital_signature', 'content_commitment', 'key_encipherment', 'data_encipherment',
                     'key_agreement', 'key_cert_sign', 'crl_sign')


def key_usage_names(obj):
    value = _extension(obj.extensions, x509.KeyUsage)
    if value is None:
        return []
    # encipher_only/decipher_only raise unless key_agreement is set; this module never sets them.
    return [field for field in _KEY_USAGE_FIELDS if getattr(value, field)]


def _key_usage(names):
    return x509.KeyUsage(**dict((field, field in names) for field in _KEY_USAGE_FIELDS + ('encipher_only', 'decipher_only')))


def leaf_key_usage(public_key):
    # RSA key exchange (TLS 1.2 without ECDHE) encrypts to the key; EC and Ed25519 keys only sign.
    if isinstance(public_key, rsa.RSAPublicKey):
        return ['digital_signature', 'key_encipherment']
    return ['digital_signature']


def basic_constraints(obj):
    value = _extension(obj.extensions, x509.BasicConstraints)
    return (value.ca, value.path_length) if value is not None else (False, None)


# --- desired state -------------------------------------------------------------------------------

class Profile:
    """What the certificate (or CSR) should say, independent of keys."""

    def __init__(self, subject=None, sans=None, is_ca=False, path_length=None, extended_key_usage=None,
                 valid_days=365, renew_before_days=30, force=False):
        self.subject = subject
        self.sans = sans
        self.is_ca = is_ca
        self.path_length = path_length if is_ca else None
        if is_ca:
            self.extended_key_usage = []
        else:
            self.extended_key_usage = list(extended_key_usage) if extended_key_usage is not None else ['server_auth']
        self.valid_days = valid_days
        self.renew_before_days = renew_before_days
        self.force = force

    def fill_from_csr(self, csr):
        """For ``sign``: subject and SANs the task left unset come from the request."""
        if self.subject is None:
            self.subject = csr.subject
        if self.sans is None:
            value = _extension(csr.extensions, x509.SubjectAlternativeName)
            self.sans = list(value) if value is not None else []

    def san_texts(self):
        return sorted(san_text(name) for name in self.sans or [])

    def key_usage(self, public_key):
        return ['key_cert_sign', 'crl_sign'] if self.is_ca else leaf_key_usage(public_key)

    def check(self, kind):
        if self.is_ca and not any(a.oid == NameOID.COMMON_NAME for a in self.subject):
            raise X509Error('A CA certificate needs subject.common_name.')
        if not len(self.subject) and not self.sans:
            raise X509Error('Give subject.common_name or subject_alt_names (the %s would name nothing).'
                            % ('request' if kind == 'csr' else 'certificate'))
        if self.valid_days < 1:
            raise X509Error('valid_days must be at least 1.')
        if self.renew_before_days < 0:
            raise X509Error('renew_before_days must not be negative.')
        if self.path_length is not None and self.path_length < 0:
            raise X509Error('path_length must not be negative.')

    def planned_facts(self, public_key, issuer_name):
        """What a new certificate will say, before it exists (check mode)."""
        facts = {
            'subject': self.subject.rfc4514_string(),
            'issuer': (issuer_name or self.subject).rfc4514_string(),
            'subject_alt_names': self.san_texts(),
            'is_ca': self.is_ca,
            'path_length': self.path_length,
            'extended_key_usage': sorted(self.extended_key_usage),
        }
        if public_key is not None:
            facts['key_usage'] = sorted(self.key_usage(public_key))
            facts['public_key'] = key_facts(public_key)
        return facts


class Issuer:
    """A CA certificate and its key, checked to belong together, to be a CA and to be valid now."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @classmethod
    def load(cls, cert_data, key_data, passphrase, cert_option='ca_cert_path', key_option='ca_privatekey_path',
             passphrase_option='ca_privatekey_passphrase'):
        cert = load_certificate(cert_data, cert_option)
        is_ca, dummy = basic_constraints(cert)
        if not is_ca:
            raise X509Error('%s is not a CA certificate: it lacks basicConstraints CA:TRUE.' % cert_option)
        usages = key_usage_names(cert)
        if usages and 'key_cert_sign' not in usages:
            raise X509Error('%s may not sign certificates: its keyUsage lacks keyCertSign.' % cert_option)
        key = load_private_key(key_data, passphrase, key_option, passphrase_option)
        check_signing_key(key, key_option)
        if not same_key(key.public_key(), cert.public_key()):
            raise X509Error('%s does not match %s: that key did not make this CA certificate.' % (key_option, cert_option))
        return cls(cert, key)

    def check_valid(self, now, what='content'):
        """Refuse a CA certificate that has expired: nothing it signs would be trusted."""
        if not_after(self.cert) <= now:
            raise X509Error('%s expired on %s: renew the CA certificate where it was made (same key) and give the new one.'
                            % (what, iso_utc(not_after(self.cert))))


# --- certificates and requests -------------------------------------------------------------------

def certificate_facts(cert):
    serial = '%X' % cert.serial_number
    is_ca, path_length = basic_constraints(cert)
    return {
        'subject': cert.subject.rfc4514_string(),
        'issuer': cert.issuer.rfc4514_string(),
        'subject_alt_names': sorted(sans_of(cert)),
        'serial': serial.zfill(len(serial) + len(serial) % 2),
        'fingerprint': _colon_hex(cert.fingerprint(hashes.SHA256())),
        'not_before': iso_utc(not_before(cert)),
        'not_after': iso_utc(not_after(cert)),
        'is_ca': is_ca,
        'path_length': path_length,
        'key_usage': sorted(key_usage_names(cert)),
        'extended_key_usage': eku_names(cert),
        'public_key': key_facts(cert.public_key()),
    }


def csr_facts(csr):
    return {
        'subject': csr.subject.rfc4514_string(),
        'subject_alt_names': sorted(sans_of(csr)),
        'extended_key_usage': eku_names(csr),
        'public_key': key_facts(csr.public_key()),
    }


def _ordered(reasons):
    order = KEY_REASONS + REASONS
    return sorted(set(reasons), key=order.index)


class _Document(_File):
    """A certificate or request file: replaced when it is unreadable or says something else."""

    def __init__(self, profile):
        super().__init__()
        self.profile = profile
        self.existing_invalid = False

    def _parse(self, data):
        try:
            self.existing = self._load(data)
        except ValueError:
            # The module's own output file: garbage there is replaced, not an input error.
            self.existing_invalid = True

    def needs_regeneration(self, public_key):
        """Reasons to replace the file, which must be for ``public_key`` (None: a new key)."""
        if self.existing_invalid or (self.existing is not None and not self._sound(self.existing)):
            return ['invalid']
        if self.existing is None:
            return ['missing']
        found, profile = self.existing, self.profile
        reasons = ['forced'] if profile.force else []
        if not same_key(found.public_key(), public_key):
            reasons.append('key_mismatch')
        if found.subject != profile.subject:
            reasons.append('subject_changed')
        if sorted(sans_of(found)) != profile.san_texts():
            reasons.append('san_changed')
        return _ordered(reasons + self._more_reasons(found, public_key))

    def _sound(self, found):
        # A request must carry its maker's signature; a certificate's is checked as issuer_changed.
        return True

    def dump(self):
        return self.made.public_bytes(serialization.Encoding.PEM)


class Certificate(_Document):
    """A certificate file: self-signed when ``issuer`` is None, else signed by that CA."""

    def __init__(self, profile, issuer=None, now=None):
        super().__init__(profile)
        self.issuer = issuer
        self.now = now or utcnow()

    def _load(self, data):
        return x509.load_pem_x509_certificate(data)

    def _facts(self, cert):
        return certificate_facts(cert)

    def _more_reasons(self, cert, public_key):
        profile, reasons = self.profile, []
        expected_usage = profile.key_usage(public_key or cert.public_key())
        if sorted(key_usage_names(cert)) != sorted(expected_usage) or eku_names(cert) != sorted(profile.extended_key_usage):
            reasons.append('usage_changed')
        if basic_constraints(cert) != (profile.is_ca, profile.path_length):
            reasons.append('ca_changed')
        if self.issuer is None:
            issued_right = cert.issuer == cert.subject and signed_by(cert, cert.public_key())
        else:
            issued_right = cert.issuer == self.issuer.cert.subject and signed_by(cert, self.issuer.cert.public_key())
        if not issued_right:
            reasons.append('issuer_changed')
        if not_after(cert) - datetime.timedelta(days=profile.renew_before_days) <= self.now:
            reasons.append('expiring')
        return reasons

    def generate(self, public_key, signing_key):
        """Issue a new certificate for ``public_key``; ``signing_key`` is the CA's (or its own) key."""
        profile = self.profile
        if self.issuer is not None:
            issuer_name = self.issuer.cert.subject
            issuer_ski = _extension(self.issuer.cert.extensions, x509.SubjectKeyIdentifier)
            aki = (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski) if issuer_ski is not None
                   else x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuer.cert.public_key()))
        else:
            issuer_name = profile.subject
            aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key)
        builder = (x509.CertificateBuilder()
                   .subject_name(profile.subject)
                   .issuer_name(issuer_name)
                   .public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(self.now - BACKDATE)
                   .not_valid_after(self.now + datetime.timedelta(days=profile.valid_days))
                   .add_extension(x509.BasicConstraints(ca=profile.is_ca, path_length=profile.path_length), critical=True)
                   .add_extension(_key_usage(profile.key_usage(public_key)), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
                   .add_extension(aki, critical=False))
        if profile.extended_key_usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku_oids(profile.extended_key_usage)), critical=False)
        if profile.sans:
            # RFC 5280 4.2.1.6: with an empty subject the SANs carry the identity and must be critical.
            builder = builder.add_extension(x509.SubjectAlternativeName(profile.sans), critical=not len(profile.subject))
        self.made = builder.sign(signing_key, signature_hash(signing_key))

    def planned_facts(self, public_key):
        return self.profile.planned_facts(public_key, self.issuer.cert.subject if self.issuer else None)


class GivenCertificate(_Document):
    """A CA certificate file that must hold ``given``, a certificate made elsewhere: never issued here."""

    def __init__(self, given):
        super().__init__(None)
        self.given = given

    def _load(self, data):
        return x509.load_pem_x509_certificate(data)

    def _facts(self, cert):
        return certificate_facts(cert)

    def needs_regeneration(self, public_key=None):
        if self.existing_invalid:
            return ['invalid']
        if self.existing is None:
            return ['missing']
        return [] if self.existing == self.given else ['content_changed']

    def planned_facts(self, public_key=None):
        return certificate_facts(self.given)

    def generate(self):
        self.made = self.given


class SigningRequest(_Document):
    """A CSR file made from the local key, for a leaf certificate signed elsewhere."""

    def _load(self, data):
        return x509.load_pem_x509_csr(data)

    def _sound(self, found):
        return found.is_signature_valid

    def _facts(self, csr):
        return csr_facts(csr)

    def _more_reasons(self, csr, public_key):
        # Validity and usage beyond the EKU are the signer's business.
        return [] if eku_names(csr) == sorted(self.profile.extended_key_usage) else ['usage_changed']

    def generate(self, private_key):
        profile = self.profile
        builder = x509.CertificateSigningRequestBuilder().subject_name(profile.subject)
        if profile.sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(profile.sans), critical=not len(profile.subject))
        if profile.extended_key_usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku_oids(profile.extended_key_usage)), critical=False)
        self.made = builder.sign(private_key, signature_hash(private_key))

    def planned_facts(self, public_key):
        facts = {
            'subject': self.profile.subject.rfc4514_string(),
            'subject_alt_names': self.profile.san_texts(),
            'extended_key_usage': sorted(self.profile.extended_key_usage),
        }
        if public_key is not None:
            facts['public_key'] = key_facts(public_key)
        return facts
