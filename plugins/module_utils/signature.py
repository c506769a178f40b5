# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The detached signature file beside a file it signs: the converge resource of aci_sign.

Not part of ``gpg.py``, which is the one way to talk to gpg (keys, signing, verifying) and knows
no module: this is the module's side, which signature file to keep or replace, and when.
"""

from __future__ import annotations

import contextlib
import os

from ansible_collections.aci.registry.plugins.module_utils import converge, files, gpg

DEFAULT_MODE = 0o644


def signing_key(keyring, fingerprint, home):
    """The key of ``keyring`` (the open gnupghome ``home``) to sign with, or a ModuleError that says what is wrong."""
    key = gpg.get_key(keyring, fingerprint)
    if key is None:
        raise converge.ModuleError('Unknown key: no key with fingerprint %s in gnupghome %s.' % (fingerprint, home))
    if not key['secret']:
        raise converge.ModuleError('gnupghome %s holds only the public part of key %s; signing needs its secret key.'
                                   % (home, key['fingerprint']))
    if key['revoked']:
        raise converge.ModuleError('Key %s has been revoked; it must not sign anything.' % key['fingerprint'])
    if key['expired']:
        raise converge.ModuleError('Key %s expired on %s; extend it (aci.registry.gpg_key expire) or sign with '
                                   'another key.' % (key['fingerprint'], gpg.iso_time(key['expires'])))
    problem = gpg.rkt_problem(key, keyring)
    if problem:
        raise converge.ModuleError('Key %s: %s' % (key['fingerprint'], problem))
    capabilities = key['capabilities'] + ''.join(s['capabilities'] for s in key['subkeys']
                                                 if s['validity'] not in ('e', 'r'))
    if 'S' not in capabilities and 's' not in capabilities:
        raise converge.ModuleError('Key %s has no usable signing capability.' % key['fingerprint'])
    return key


class Signer:
    """The key of ``gnupghome`` that signs, opened and checked once, and a ``gpg.Verifier`` of its
    exported public key: aci_sign opens one per file, aci_image_set one for a whole set of images."""

    def __init__(self, gnupghome, fingerprint, passphrase):
        gpg.check_passphrase_text(passphrase)
        self.keyring = gpg.open_home(gnupghome)
        self.key = signing_key(self.keyring, gpg.normalize_fingerprint(fingerprint), gnupghome)
        self.passphrase = passphrase
        self._stack = contextlib.ExitStack()
        self.check = self._stack.enter_context(gpg.verifier(gpg.export_public_key(self.keyring, self.key['fingerprint'])))

    def signer_of(self, path, dest):
        """The key's fingerprint when ``dest`` is a signature of ``path`` by it as the file is now, else ``None``."""
        return gpg.read_signature_signer(None, path, dest, check=self.check)

    def sign(self, path):
        """``(signature bytes, signer)`` of ``path``, checked as a client holding the public key checks it."""
        return gpg.sign_and_check(self.keyring, self.key['fingerprint'], path, self.passphrase, check=self.check)

    def close(self):
        self._stack.close()


class Signature(converge.Resource):
    """The signature at ``dest`` of the file at ``path``, by the key ``fingerprint`` of ``gnupghome``.

    Current and desired are what diff mode shows: the signature file, its signer and the digest of
    the signed file. The signer before is the key asked for when the existing signature verifies
    the file as it is now, and ``None`` otherwise, so that a changed file means a new signature.
    """

    errors = (gpg.GpgError,)

    def __init__(self, module, signer=None):
        super().__init__(module)
        gpg.require_gnupg(module)
        self.path = self.params['path']
        self.dest = self.params['dest'] or self.path + '.asc'
        # A Signer given is shared (and closed) by the caller; one opened here is closed with the resource.
        self.signer, self._own_signer = signer, signer is None
        self.key = self.sha512 = None
        self.signed = None  # the new signature's bytes, made by desired()

    def _fields(self, **more):
        """What every result and failure tells: the file, its signature and, once known, its digest."""
        fields = dict(changed=False, path=self.path, signature_path=self.dest)
        if self.sha512:
            fields['sha512'] = self.sha512
        fields.update(more)
        return fields

    def _check_paths(self):
        def refuse(problem):
            raise converge.ModuleError(problem, **self._fields())

        if not os.path.exists(self.path):
            refuse('File to sign %s does not exist.' % self.path)
        if not os.path.isfile(self.path):
            refuse('File to sign %s is not a regular file.' % self.path)
        if not os.access(self.path, os.R_OK):
            refuse('File to sign %s is not readable by this user.' % self.path)
        if os.path.isdir(self.dest):
            refuse('Signature destination %s is a directory.' % self.dest)
        files.check_writable_dir(self.module, self.dest)

    def current(self):
        self._check_paths()
        existed = os.path.exists(self.dest)
        if self.signer is None:
            self.signer = Signer(self.params['gnupghome'], self.params['fingerprint'], self.params['passphrase'])
        self.key = self.signer.key
        self.sha512 = self.module.digest_from_file(self.path, 'sha512')
        signer = self.signer.signer_of(self.path, self.dest)
        return dict(signature=self.dest if existed else None, signer=signer,
                    signed_sha512=self.sha512 if signer else None)

    def desired(self, current):
        kept = dict(signature=self.dest, signer=self.key['fingerprint'], signed_sha512=self.sha512)
        if current['signer'] == self.key['fingerprint']:
            return kept
        # Signing in check mode too: it changes nothing, and a wrong passphrase must show now.
        self.signed, signer = self.signer.sign(self.path)
        return dict(kept, signer=signer)

    def differences(self, current, desired):
        if current['signer'] == self.key['fingerprint']:
            return []
        return ['missing'] if current['signature'] is None else ['does not verify the file with the key']

    def apply(self, current, desired, reasons):
        try:
            backup_file = files.write_file(self.module, self.dest, content=self.signed, default_mode=DEFAULT_MODE,
                                           backup=self.params['backup'])
        except OSError as e:
            raise converge.ModuleError('Cannot write signature %s: %s' % (self.dest, e),
                                       **self._fields(changed=True, signer_fingerprint=desired['signer']))
        return dict(backup_file=backup_file) if backup_file else {}

    def settle(self, changed):
        # A new signature got its attributes from write_file; a kept one may still need them.
        return changed or files.apply_file_attributes(self.module, self.dest, False, default_mode=DEFAULT_MODE)

    def result(self, current, desired, reasons):
        return self._fields(signer_fingerprint=desired['signer'])

    def failure(self, error):
        return self._fields(**({'stderr': error.stderr} if error.stderr else {}))

    def close(self):
        if self._own_signer and self.signer is not None:
            self.signer.close()
