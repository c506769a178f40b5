# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the x509_cert module converges: one ``converge.Resource`` per kind (ca, leaf, csr, sign).

Every kind keeps one target file, a certificate or a request; ca, leaf and csr also keep the
private key it is for. A ca given as content (``GivenCA``) is written, never generated. ``current()`` reads and checks every input (options, CA, request, key)
before anything is generated, so bad input fails before any file changes; ``apply()`` writes the
key first, then the target. The cryptography itself is in ``x509``.
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.aci.registry.plugins.module_utils import converge, files, x509

# Options that only mean something for some kinds; giving them elsewhere is a mistake worth naming.
_OPTION_KINDS = {
    'path': ('ca', 'leaf', 'sign'),
    'privatekey_path': ('ca', 'leaf', 'csr'),
    'privatekey_passphrase': ('ca', 'leaf', 'csr'),
    'privatekey_mode': ('ca', 'leaf', 'csr'),
    'key_size': ('ca', 'leaf', 'csr'),
    'key_curve': ('ca', 'leaf', 'csr'),
    'csr_path': ('csr',),
    'csr_src': ('sign',),
    'ca_cert_path': ('leaf', 'sign'),
    'ca_privatekey_path': ('leaf', 'sign'),
    'ca_privatekey_passphrase': ('leaf', 'sign'),
    'path_length': ('ca',),
    'extended_key_usage': ('leaf', 'csr', 'sign'),
    'content': ('ca',),
    'privatekey_content': ('ca',),
}
# What a CA given as content already says for itself.
CONTENT_CONFLICTS = ('subject', 'subject_alt_names', 'key_type', 'key_size', 'key_curve', 'path_length', 'valid_days',
                     'force')


def _read(path, option, required=False):
    try:
        data = files.read_bytes(path)
    except OSError as e:
        raise x509.X509Error('Cannot read %s %s: %s.' % (option, path, e.strerror or e))
    if data is None and required:
        raise x509.X509Error('%s %s does not exist.' % (option, path))
    return data


class _Kind(converge.Resource):
    """What the kinds share: a target file (``target_option``) and, unless ``sign``, its key.

    ``current`` and ``diff`` are facts (subject, SANs, serial, fingerprints), never key bytes.
    """

    errors = (x509.X509Error,)
    kind = None
    target_option = 'path'
    #: For sign, an unset subject or SAN list means "as the request asks"; elsewhere it means none.
    names_from_request = False

    def __init__(self, module, now=None):
        super().__init__(module)
        self.now = now or x509.utcnow()
        self.issuer = None
        self.key = None

    def current(self):
        for option, kinds in _OPTION_KINDS.items():
            if self.params.get(option) is not None and self.kind not in kinds:
                raise x509.X509Error('%s does not apply to kind=%s (only to %s).' % (option, self.kind, ', '.join(kinds)))
        self.target = self._plan()
        written = self._written()
        if len(set(os.path.abspath(p) for p in written)) < len(written):
            raise x509.X509Error('privatekey_path and %s must be different files.' % self.target_option)
        self.target.set_existing(_read(self.params[self.target_option], self.target_option))
        facts = self.target.facts()
        if self.key is not None and self.key.existing is not None:
            facts.setdefault('public_key', self.key.facts())
        return facts

    def desired(self, current):
        """The target as it is when it may stay, else what a new one will say (no serial or dates yet)."""
        self.target_reasons = self.target.needs_regeneration(self._subject_key())
        return self.target.planned_facts(self._subject_key()) if self.target_reasons else current

    def differences(self, current, desired):
        return (self.key.needs_regeneration() if self.key is not None else []) + self.target_reasons

    def apply(self, current, desired, reasons):
        # A missing directory for the certificate must fail before the new key is written.
        for path in self._written():
            files.check_writable_dir(self.module, path)
        backups = {}
        if self.key is not None and set(reasons) & set(x509.KEY_REASONS):
            self.key.generate()
            # The key has its own mode option: a mode given for the certificate never loosens it.
            backups['privatekey_backup_file'] = files.write_file(
                self.module, self.params['privatekey_path'], content=self.key.dump(), default_mode=0o600,
                backup=self.params['backup'], mode=self.params['privatekey_mode'])
        if self.target_reasons:
            self._issue()
            if self.issuer is not None and x509.not_after(self.target.made) > x509.not_after(self.issuer.cert):
                self.warnings.append('The certificate outlives its CA (CA valid until %s); clients stop trusting it then.'
                                     % x509.iso_utc(x509.not_after(self.issuer.cert)))
            backups['backup_file'] = files.write_file(self.module, self.params[self.target_option],
                                                      content=self.target.dump(), default_mode=0o644,
                                                      backup=self.params['backup'])
        return dict((name, backup) for name, backup in backups.items() if backup)

    def settle(self, changed):
        # Attributes (mode/owner/group) of the files that exist now; in check mode they are only reported.
        changed = self._attributes(self.params[self.target_option], changed, 0o644)
        if self.key is not None:
            changed = self._attributes(self.params['privatekey_path'], changed, 0o600, mode=self.params['privatekey_mode'])
        return changed

    def result(self, current, desired, reasons):
        # In check mode, the facts of the files as they are (RETURN says so); the diff has the plan.
        result = dict(self.target.facts(), reasons=reasons, kind=self.kind)
        result[self.target_option] = self.params[self.target_option]
        if self.key is not None:
            result['privatekey_path'] = self.params['privatekey_path']
            result.setdefault('public_key', self.key.facts())
        return result

    def diff(self, current, desired):
        # After a real run, the new target's own facts: its serial and dates exist only now.
        after = self.target.facts() if self.target.made is not None else desired
        header = self.params[self.target_option]
        return dict(before=current, after=after, before_header=header, after_header=header)

    # --- what differs between the kinds ------------------------------------------------------

    def _plan(self):
        """Read and check every input; returns the target file's backend."""
        self.profile = self._profile()
        self._read_inputs()
        self.profile.check(self.kind)
        return self._target()

    def _profile(self):
        params, keep_unset = self.params, self.names_from_request
        return x509.Profile(
            subject=x509.build_subject(params['subject']) if params['subject'] is not None or not keep_unset else None,
            sans=x509.parse_sans(params['subject_alt_names']) if params['subject_alt_names'] is not None or not keep_unset else None,
            is_ca=self.kind == 'ca',
            path_length=params['path_length'],
            extended_key_usage=params['extended_key_usage'],
            valid_days=params['valid_days'],
            renew_before_days=params['renew_before_days'],
            force=params['force'],
        )

    def _read_inputs(self):
        params = self.params
        self.key = x509.PrivateKey(x509.KeySpec(params['key_type'], params['key_size'], params['key_curve']),
                                   params['privatekey_passphrase'])
        self.key.set_existing(_read(params['privatekey_path'], 'privatekey_path'))

    def _read_issuer(self):
        params = self.params
        self.issuer = x509.Issuer.load(_read(params['ca_cert_path'], 'ca_cert_path', required=True),
                                       _read(params['ca_privatekey_path'], 'ca_privatekey_path', required=True),
                                       params['ca_privatekey_passphrase'])

    def _target(self):
        profile = self.profile
        if profile.renew_before_days >= profile.valid_days:
            self.warnings.append('renew_before_days (%d) is not less than valid_days (%d): the certificate is '
                                 'reissued on every run.' % (profile.renew_before_days, profile.valid_days))
        return x509.Certificate(profile, issuer=self.issuer, now=self.now)

    def _written(self):
        own_key = [self.params['privatekey_path']] if self.key is not None else []
        return [self.params[self.target_option]] + own_key

    def _subject_key(self):
        """The public key the target is for: the kept key's, or None when a new key will be made."""
        return None if self.key.replaces_key() else self.key.existing.public_key()

    def _issue(self):
        private_key = self.key.current
        self.target.generate(private_key.public_key(), self.issuer.key if self.issuer is not None else private_key)

    def _attributes(self, path, changed, default_mode, **explicit_mode):
        if not os.path.exists(path):
            return changed  # check mode, before the file is made
        return files.apply_file_attributes(self.module, path, changed, default_mode=default_mode, **explicit_mode)


class CA(_Kind):
    """A self-signed CA certificate at ``path`` and its key."""

    kind = 'ca'


class GivenCA(CA):
    """The CA certificate and key given as ``content`` and ``privatekey_content``, written to ``path`` and
    ``privatekey_path``: a CA made elsewhere (kept in a vault), checked, never generated or renewed here."""

    def _plan(self):
        params = self.params
        given = x509.Issuer.load(_pem(params['content'], 'content'), _pem(params['privatekey_content'], 'privatekey_content'),
                                 params['privatekey_passphrase'], cert_option='content', key_option='privatekey_content',
                                 passphrase_option='privatekey_passphrase')
        given.check_valid(self.now)
        expires = x509.not_after(given.cert)
        if expires - datetime.timedelta(days=params['renew_before_days']) <= self.now:
            self.warnings.append('The CA certificate in content expires on %s, within renew_before_days (%d): renew it '
                                 'where it was made (same key) and give the new one.'
                                 % (x509.iso_utc(expires), params['renew_before_days']))
        self.key = x509.GivenKey(given.key, params['privatekey_passphrase'])
        self.key.set_existing(_read(params['privatekey_path'], 'privatekey_path'))
        return x509.GivenCertificate(given.cert)

    def _subject_key(self):
        return self.key.given.public_key()

    def _issue(self):
        self.target.generate()


def _pem(text, option):
    """The bytes of a PEM option, or a message for what is clearly not PEM text (a file name, say)."""
    if '-----BEGIN ' not in text:
        raise x509.X509Error('%s holds no PEM block: give the text of the PEM file (-----BEGIN ...), not its name; '
                             'for a file on the controller use the ansible.builtin.file lookup.' % option)
    return text.encode('utf-8')


class Leaf(_Kind):
    """A certificate at ``path`` for the key beside it, signed by the CA given."""

    kind = 'leaf'

    def _read_inputs(self):
        self._read_issuer()
        super()._read_inputs()


class Request(_Kind):
    """A certificate signing request at ``csr_path`` for the key beside it, to be signed elsewhere."""

    kind = 'csr'
    target_option = 'csr_path'

    def _target(self):
        return x509.SigningRequest(self.profile)

    def _issue(self):
        self.target.generate(self.key.current)


class Signing(_Kind):
    """A certificate at ``path`` for the key in the request ``csr_src``, signed by the CA given."""

    kind = 'sign'
    names_from_request = True

    def _read_inputs(self):
        self._read_issuer()
        request = x509.load_csr(_read(self.params['csr_src'], 'csr_src', required=True), 'csr_src')
        if not request.is_signature_valid:
            raise x509.X509Error('csr_src %s has an invalid signature: its maker did not hold the key in it.'
                                 % self.params['csr_src'])
        x509.check_signing_key(request.public_key(), 'csr_src')
        self.profile.fill_from_csr(request)
        self.request = request

    def _subject_key(self):
        return self.request.public_key()

    def _issue(self):
        self.target.generate(self.request.public_key(), self.issuer.key)


KINDS = {resource.kind: resource for resource in (CA, Leaf, Request, Signing)}


def resource(module):
    """The resource for the module's ``kind`` (and ``content``: a CA to write, not to make)."""
    if module.params['kind'] == 'ca' and module.params['content'] is not None:
        return GivenCA(module)
    return KINDS[module.params['kind']](module)
