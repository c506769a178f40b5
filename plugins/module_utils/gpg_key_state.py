# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the gpg_key module converges: a signing key in a GnuPG home and the files exported from it.

``Present`` keeps one secret key under the task's user id (made when missing, its expiry moved
when the task asks for another), its public key file and a backup of its secret key; ``Imported``
keeps instead the secret key the task gives (``secret_key``), checked in a throw-away home before
the real one is touched; ``Absent`` deletes the keys the task names. They read the home without
writing to it: a home without a keyring holds no key, and opening it would make gpg create one (in
check mode too). Talking to gpg is ``gpg``'s business.
"""

from __future__ import annotations

import os

from ansible_collections.aci.registry.plugins.module_utils import converge, files, gpg

# The reasons after which gpg has another key to list and export.
_KEY_CHANGES = {'key missing', 'expiry'}
# What a key given as secret_key already says for itself.
IMPORT_CONFLICTS = ('name_real', 'name_email', 'name_comment', 'algorithm', 'expire')


def _summary(key):
    """The part of a key a diff shows: never key material."""
    if key is None:
        return {}
    return dict(fingerprint=key['fingerprint'], uid=key['uid'], algorithm=key['algorithm'],
                expires=gpg.iso_time(key['expires']))


def _key_result(key, public_key):
    return dict(fingerprint=key['fingerprint'], key_id=key['key_id'], uid=key['uid'], algorithm=key['algorithm'],
                key_size=key['key_size'], created=gpg.iso_time(key['created']),
                expires=gpg.iso_time(key['expires']), public_key=public_key)


def _open(home):
    """A handle on ``home`` when it holds a keyring, else None: it holds no key."""
    return gpg.open_home(home) if gpg.has_keyring(home) else None


def _refuse_keys_rkt_cannot_read(handle, keys, uid):
    """Fail on a key under ``uid`` that rkt cannot read: it is neither used nor replaced."""
    for key in keys:
        problem = gpg.rkt_problem(key, handle)
        if problem:
            raise converge.ModuleError(
                'gnupghome holds key %s with user id %r: %s This key is neither used nor replaced: delete it with '
                'state=absent and fingerprint=%s, or choose another user id.'
                % (key['fingerprint'], uid, problem, key['fingerprint']))


class _KeyResource(converge.Resource):
    errors = (gpg.GpgError,)

    def failure(self, error):
        return {'stderr': error.stderr} if error.stderr else {}


class Present(_KeyResource):
    """One secret key under the task's user id, its public key file and its secret key backup.

    ``current``: the key (None: none yet), the public key file's bytes and what the backup holds.
    ``desired``: the key with the expiry asked for (None: one is to be made) and its public key.
    ``made``: the same after a real run, as gpg lists and exports the new or changed key.
    """

    made = None

    def current(self):
        p = self.params
        self._check_request()
        # Fail on an unwritable destination before spending seconds on a key.
        for path in (p['public_key_path'], p['secret_key_backup_path']):
            if path:
                files.check_writable_dir(self.module, path)
        self.home_changes = gpg.prepare_home(p['gnupghome'], check_mode=True)
        self.handle = _open(p['gnupghome'])
        key = self._existing_key()
        backup = p['secret_key_backup_path']
        return dict(key=key, public_key_file=self._read(p['public_key_path'], 'public_key_path'),
                    backup=gpg.scan_key_file(self.handle, backup) if key and backup and os.path.isfile(backup) else None)

    def desired(self, current):
        key = current['key']
        if key is None:
            return dict(key=None, public_key=None)
        wanted = gpg.wanted_expiry(self.expire, key['created'])
        if not gpg.same_expiry(key['expires'], wanted):
            # Refused now, as the real run would refuse it, rather than reported as a key that has expired.
            gpg.check_new_expiry(key['fingerprint'], wanted)
            key = dict(key, expires=wanted, expired=False)
        if key['expired']:
            self.warnings.append('Key %s expired on %s: it cannot sign. Set expire to a later date or a longer period '
                                 'to extend it.' % (key['fingerprint'], gpg.iso_time(key['expires'])))
        elif not current['key']['expired']:
            # The passphrase is part of what is asked for: a wrong one must fail now, not at signing time.
            # (An expired key cannot sign; extending it needs the passphrase, which tests it then.)
            gpg.check_passphrase(self.handle, key['fingerprint'], self.passphrase)
        return dict(key=key, public_key=gpg.export_public_key(self.handle, key['fingerprint']))

    def differences(self, current, desired):
        p, key = self.params, current['key']
        reasons = ['gnupghome %s' % change for change in self.home_changes]
        if key is None:
            reasons.append('key missing')
        elif not gpg.same_expiry(key['expires'], desired['key']['expires']):
            reasons.append('expiry')
        # A new key, or a new expiry (a new self-signature), is a new public key.
        new_public_key = bool(_KEY_CHANGES & set(reasons))
        if p['public_key_path'] and (new_public_key or current['public_key_file'] != desired['public_key'].encode('ascii')):
            reasons.append('public key file')
        # GnuPG exports different bytes every time: a backup that holds this secret key is kept.
        held = [dict(fingerprint=key['fingerprint'], secret=True)] if key else None
        if p['secret_key_backup_path'] and (held is None or current['backup'] != held):
            reasons.append('secret key backup')
        return reasons

    def apply(self, current, desired, reasons):
        p = self.params
        gpg.prepare_home(p['gnupghome'])
        handle = self.handle if self.handle is not None else gpg.open_home(p['gnupghome'])
        self.made = desired
        if _KEY_CHANGES & set(reasons):
            fingerprint = self._change_key(handle, current['key'], desired['key'])
            self.made = dict(key=gpg.get_key(handle, fingerprint), public_key=gpg.export_public_key(handle, fingerprint))
        if 'public key file' in reasons:
            self._write(p['public_key_path'], self.made['public_key'].encode('ascii'), 0o644)
        if 'secret key backup' in reasons:
            secret_key = gpg.export_secret_key(handle, self.made['key']['fingerprint'], self.passphrase)
            self._write(p['secret_key_backup_path'], secret_key.encode('ascii'), 0o600)

    def settle(self, changed):
        for option, mode in (('public_key_path', 0o644), ('secret_key_backup_path', 0o600)):
            path = self.params[option]
            if path and os.path.exists(path):
                changed = files.apply_file_attributes(self.module, path, changed, default_mode=mode)
        return changed

    def result(self, current, desired, reasons):
        state = self.made or desired
        if state['key'] is None:
            return dict(uid=self.uid)  # check mode, before the key exists: nothing more is known
        result = _key_result(state['key'], state['public_key'])
        for option in ('public_key_path', 'secret_key_backup_path'):
            if self.params[option]:
                result[option] = self.params[option]
        return result

    def diff(self, current, desired):
        state = self.made or desired
        if state['key'] is None:
            return dict(before={}, after=dict(uid=self.uid, algorithm=self.params['algorithm'], expire=self.params['expire']))
        diffs = [dict(before=_summary(current['key']), after=_summary(state['key']), before_header='key', after_header='key')]
        path, old = self.params['public_key_path'], current['public_key_file']
        if path and old != state['public_key'].encode('ascii'):
            diffs.append(dict(before=old.decode('utf-8', 'replace') if old is not None else '', after=state['public_key'],
                              before_header=path, after_header=path))
        return diffs

    def _change_key(self, handle, key, wanted):
        """Make the key, or move its expiry; returns its fingerprint."""
        p = self.params
        if key is None:
            return gpg.generate_key(handle, p['name_real'], p['name_email'], p['name_comment'], p['algorithm'],
                                    p['expire'], self.passphrase)
        gpg.set_expiry(handle, key['fingerprint'], wanted['expires'], self.passphrase)
        return key['fingerprint']

    def _check_request(self):
        p = self.params
        self.uid = gpg.build_uid(p['name_real'], p['name_email'], p['name_comment'])
        try:
            gpg.check_algorithm(p['algorithm'])
        except gpg.GpgError:
            self._refuse_existing_key_rkt_cannot_read()
            raise
        self.expire = gpg.parse_expire(p['expire'])
        self._check_protection()

    def _check_protection(self):
        p = self.params
        self.passphrase = p['passphrase']
        if self.passphrase is None and not p['unprotected']:
            raise converge.ModuleError('Give passphrase, or set unprotected=true for a key without a passphrase.')
        if self.passphrase is not None and p['unprotected']:
            raise converge.ModuleError('passphrase and unprotected=true are mutually exclusive.')
        gpg.check_passphrase_text(self.passphrase)

    def _refuse_existing_key_rkt_cannot_read(self):
        """With a refused algorithm asked for: an unreadable key already under the user id is the bigger
        problem (fixing the request alone would only meet it on the next run), so name it first."""
        try:
            handle = _open(self.params['gnupghome'])
            keys = gpg.find_keys_by_uid(handle, self.uid) if handle is not None else []
        except gpg.GpgError:
            return  # the refused algorithm is still worth reporting
        _refuse_keys_rkt_cannot_read(handle, keys, self.uid)

    def _existing_key(self):
        if self.handle is None:
            return None
        uid = self.uid
        matches = gpg.find_keys_by_uid(self.handle, uid)
        _refuse_keys_rkt_cannot_read(self.handle, matches, uid)
        secret = [k for k in matches if k['secret']]
        if len(secret) > 1:
            raise converge.ModuleError('%d secret keys carry the user id %r (%s); delete the extra ones with state=absent '
                                       'and fingerprint.' % (len(secret), uid, ', '.join(k['fingerprint'] for k in secret)))
        if not secret:
            if matches:
                raise converge.ModuleError('gnupghome holds public key %s with user id %r but not its secret key; remove '
                                           'it or choose another user id.' % (matches[0]['fingerprint'], uid))
            return None
        key = secret[0]
        if key['revoked']:
            raise converge.ModuleError('Key %s (%s) has been revoked; delete it with state=absent to create a new one.'
                                       % (key['fingerprint'], uid))
        if key['algorithm'] != self.params['algorithm']:
            raise converge.ModuleError('Key %s with user id %r is %s, not %s; a key is never replaced silently: delete '
                                       'it with state=absent first, or choose another user id.'
                                       % (key['fingerprint'], uid, key['algorithm'], self.params['algorithm']))
        return key

    def _read(self, path, option):
        try:
            return files.read_bytes(path) if path else None
        except OSError as e:
            raise converge.ModuleError('Cannot read %s %s: %s.' % (option, path, e.strerror or e))

    def _write(self, path, content, mode):
        try:
            files.write_file(self.module, path, content=content, default_mode=mode)
        except OSError as e:
            raise converge.ModuleError('Cannot write %s: %s' % (path, e))


class Imported(Present):
    """The secret key given as ``secret_key`` in the home, and the same files as ``Present``.

    The key is read, checked and unlocked in a ``gpg.scratch_home`` first, together with the
    home's copy when there is one, so ``given`` is what the home will hold after the import: the
    newer of two self-signatures wins in gpg, whichever home it came from.
    """

    def _check_request(self):
        self.uid = None  # the key's own
        self._check_protection()

    def _existing_key(self):
        with gpg.scratch_home(agent=True) as scratch:
            fingerprint = self._read_given(scratch)
            home_key = gpg.get_key(self.handle, fingerprint) if self.handle is not None else None
            if home_key is not None:
                gpg.import_keys(scratch, gpg.export_public_key(self.handle, fingerprint))
            key = gpg.get_key(scratch, fingerprint)
            self._check_given(scratch, key)
            self.given = dict(key=key, public_key=gpg.export_public_key(scratch, fingerprint))
        self._warn_other_secret_keys(fingerprint)
        return home_key if home_key is not None and home_key['secret'] else None

    def desired(self, current):
        key = current['key']
        if key is not None and gpg.same_expiry(key['expires'], self.given['key']['expires']):
            # Nothing to import: what the home exports is what its public key file must hold.
            return dict(key=key, public_key=gpg.export_public_key(self.handle, key['fingerprint']))
        return self.given

    def _change_key(self, handle, key, wanted):
        gpg.import_secret_key(handle, self.params['secret_key'], wanted['fingerprint'])
        return wanted['fingerprint']

    def _read_given(self, scratch):
        found = gpg.import_keys(scratch, self.params['secret_key'])
        if not found:
            raise converge.ModuleError('secret_key holds no OpenPGP key: give the text of an ASCII-armored secret key, '
                                       'as gpg --export-secret-keys --armor FINGERPRINT prints it (not a file name).')
        if len(found) > 1:
            raise converge.ModuleError('secret_key holds %d keys (%s); give exactly one: gpg --export-secret-keys --armor '
                                       'FINGERPRINT exports one.' % (len(found), ', '.join(found)))
        key = gpg.get_key(scratch, found[0])
        if not key['secret']:
            raise converge.ModuleError('secret_key holds the public key %s but not its secret key: export it with '
                                       'gpg --export-secret-keys --armor %s.' % (found[0], found[0]))
        return found[0]

    def _check_given(self, scratch, key):
        fingerprint = key['fingerprint']
        problem = gpg.rkt_problem(key, scratch)
        if problem:
            raise converge.ModuleError('secret_key holds key %s: %s It is not imported.' % (fingerprint, problem))
        if key['key_type'] != 'RSA' or (key['key_size'] or 0) < 2048:
            raise converge.ModuleError('secret_key holds key %s, a %s key: gpg_key keeps only RSA keys of 2048 bits or '
                                       'more (%s).' % (fingerprint, key['algorithm'], ', '.join(gpg.ALGORITHMS)))
        if key['revoked']:
            raise converge.ModuleError('Key %s in secret_key has been revoked (there or in gnupghome): it cannot sign; '
                                       'give another key.' % fingerprint)
        if key['expired']:
            # An expired key cannot sign, so signing cannot test the passphrase either.
            self.warnings.append('Key %s in secret_key expired on %s: it cannot sign. Extend it where it was made '
                                 '(gpg --quick-set-expire) and give its new export.'
                                 % (fingerprint, gpg.iso_time(key['expires'])))
        else:
            gpg.check_passphrase(scratch, fingerprint, self.passphrase)

    def _warn_other_secret_keys(self, fingerprint):
        if self.handle is None:
            return
        others = [k['fingerprint'] for k in gpg.list_keys(self.handle) if k['secret'] and k['fingerprint'] != fingerprint]
        if others:
            self.warnings.append('gnupghome also holds secret key %s, not the one in secret_key: it is kept but not '
                                 'used here; delete it with state=absent and fingerprint when it is no longer needed.'
                                 % ', '.join(others))


class Absent(_KeyResource):
    """No key with the task's fingerprint, or under its user id. Files written earlier stay."""

    def current(self):
        p = self.params
        self.uid = None
        if p['secret_key'] is not None:
            raise converge.ModuleError('secret_key is a key to import, with state=present; state=absent deletes keys by '
                                       'fingerprint or user id.')
        if p['fingerprint']:
            fingerprint = gpg.normalize_fingerprint(p['fingerprint'])
        elif p['name_real']:
            fingerprint = None
            self.uid = gpg.build_uid(p['name_real'], p['name_email'], p['name_comment'])
        else:
            raise converge.ModuleError('state=absent needs fingerprint, or name_real (with name_email and name_comment '
                                       'as when the key was created) to find the key by user id.')
        self.handle = _open(p['gnupghome'])
        if self.handle is None:
            return []
        if fingerprint:
            key = gpg.get_key(self.handle, fingerprint)
            return [key] if key else []
        return gpg.find_keys_by_uid(self.handle, self.uid)

    def desired(self, current):
        return []

    def differences(self, current, desired):
        return [key['fingerprint'] for key in current]

    def apply(self, current, desired, reasons):
        for fingerprint in reasons:
            gpg.delete_key(self.handle, fingerprint)

    def result(self, current, desired, reasons):
        result = dict(deleted=reasons)
        if self.uid:
            result['uid'] = self.uid
        return result

    def diff(self, current, desired):
        return dict(before=dict(keys=[_summary(k) for k in current]), after=dict(keys=[]))


STATES = {'present': Present, 'absent': Absent}


def resource(module):
    """The resource for the module's ``state`` (and ``secret_key``: a key to import, not to make)."""
    if module.params['state'] == 'present' and module.params['secret_key'] is not None:
        return Imported(module)
    return STATES[module.params['state']](module)
