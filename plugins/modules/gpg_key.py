#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpg_key
short_description: Create an OpenPGP signing key for ACIs and export its public key for rkt
version_added: 0.1.0
description:
  - Creates, in a dedicated GnuPG home, a sign-only OpenPGP key that rkt can verify, and exports it
    as the ASCII-armored C(pubkeys.gpg) file a registry publishes for C(rkt trust).
  - Idempotent. An existing secret key with the same user id is reused when its algorithm is the one
    asked for; a different expiry is brought in line (C(gpg --quick-set-expire)). Nothing ever
    generates a second key with the same user id.
  - Uses GnuPG 2.2 or later through python-gnupg. Keys live in the GnuPG home (no C(%pubring) or
    C(%secring) files). Key generation draws from the kernel random number generator and does not
    block waiting for entropy. C(rng-tools) or C(haveged) are not needed.
  - Every key made is one rkt 1.30 can read. rkt refuses a whole RSA key whose self-signature value begins
    with a zero byte (about 1 key in 200; gpg accepts it), so such a new key is deleted and made again,
    and such an existing key is reported, not used.
  - GnuPG gives a key that it generates ultimate owner trust, so no interactive C(--edit-key ... trust) step is needed.
author:
  - aci.registry maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - aci.registry.gnupg
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the GnuPG home and the key files, and checks the passphrase of an existing key,
        but creates nothing.
  diff_mode:
    support: full
    details:
      - Shows the key (fingerprint, user id, algorithm, expiry) and the public key file before and after.
        Secret key material is never part of a diff.
  platform:
    platforms: posix
options:
  name_real:
    description:
      - The name part of the key's user id, for example C(ACI signing key).
      - Required with O(state=present). With O(state=absent), selects the keys to delete when
        O(fingerprint) is not given.
      - The user id, C(name_real (name_comment) <name_email>), identifies the key, so keep these three
        options the same across runs.
    type: str
  name_email:
    description:
      - The mail address part of the user id, for example C(aci-signing@example.com).
    type: str
  name_comment:
    description:
      - The comment part of the user id.
    type: str
  fingerprint:
    description:
      - With O(state=absent), deletes the key with this fingerprint (40 hexadecimal digits) instead of
        the keys found by user id.
      - Ignored with O(state=present), which finds the key by user id.
    type: str
  algorithm:
    description:
      - The key's algorithm. One sign-only primary key is created, without subkeys.
      - Only RSA keys are made. rkt 1.30 verifies signatures with a 2016 C(golang.org/x/crypto/openpgp)
        that reads only RSA and DSA keys. With an ECDSA key among the trusted keys of an image prefix,
        every C(rkt fetch) under that prefix fails with the error C(primary key cannot be used for
        signatures). The other choices are refused with an error that says so.
      - An existing key with another algorithm is not replaced. The module fails instead, so delete the
        old key with O(state=absent) or choose another user id. An existing key that rkt cannot read,
        such as an ECDSA key, is reported in the same way, whatever O(algorithm) asks for.
    type: str
    default: rsa4096
    choices:
      rsa2048: RSA, 2048 bits. Quick to generate, for CI and tests.
      rsa3072: RSA, 3072 bits.
      rsa4096: RSA, 4096 bits.
      nistp256: Refused, because rkt 1.30 cannot read ECDSA keys.
      nistp384: Refused, because rkt 1.30 cannot read ECDSA keys.
      ed25519: Refused, because rkt 1.30 cannot read EdDSA keys.
      cv25519: Refused, because cv25519 is an encryption-only curve that rkt 1.30 cannot read either.
  expire:
    description:
      - When the key expires. Use V(never), a period counted from the key's creation (V(730d), V(104w),
        V(24m) or V(2y), where a month is 30 days and a year 365 days, as in gpg), or a date
        V(YYYY-MM-DD) (the key expires at noon UTC that day).
      - Changing this option on a later run moves the expiry of the existing key (the passphrase is
        needed), for example to extend a key before it expires.
    type: str
    default: never
  unprotected:
    description:
      - Set to V(true) to create (or accept) a key without a passphrase, for example for unattended signing
        on a build host. Mutually exclusive with O(passphrase).
    type: bool
    default: false
  public_key_path:
    description:
      - Where to write the ASCII-armored public key (mode C(0644)), such as the C(pubkeys.gpg) that
        a registry serves for rkt's meta discovery.
      - The file holds exactly this one key, since rkt reads only the first key of a file. A file with
        other content is replaced atomically.
    type: path
  secret_key_backup_path:
    description:
      - Where to write an ASCII-armored backup of the secret key (mode C(0600)), still protected by the
        passphrase. Store it offline.
      - An existing file that already holds exactly this secret key is kept as it is (only its mode is
        fixed), because GnuPG exports different bytes every time.
      - For a protected key, writing the backup needs O(passphrase).
    type: path
  state:
    description:
      - V(present) creates the key and writes the files. V(absent) deletes the key (secret and public)
        from the GnuPG home. Files written earlier (public key, secret key backup) are left where they are.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Run it where the key should live (usually the registry host or a signing host), and keep the
    GnuPG home and the secret key backup out of reach of the web server.
seealso:
  - module: aci.registry.aci_sign
  - name: rkt signing and verification guide
    description: How rkt discovers and trusts the public keys of an image prefix.
    link: https://github.com/rkt/rkt/blob/master/Documentation/signing-and-verification-guide.md
"""

EXAMPLES = r"""
- name: Create the registry's signing key and publish its public key
  aci.registry.gpg_key:
    gnupghome: /var/lib/aci-registry/gnupg
    name_real: example.com ACI signing key
    name_email: aci-signing@example.com
    expire: 2y
    passphrase: "{{ aci_signing_passphrase }}"
    public_key_path: /srv/aci/pubkeys.gpg
    secret_key_backup_path: /root/aci-signing-key.secret.asc
  register: signing_key

- name: An unprotected RSA 2048 key for unattended signing in CI, quick to generate
  aci.registry.gpg_key:
    gnupghome: /var/lib/ci/gnupg
    name_real: CI image signer
    algorithm: rsa2048
    unprotected: true
    public_key_path: /srv/aci/pubkeys.gpg

- name: Retire a key
  aci.registry.gpg_key:
    gnupghome: /var/lib/aci-registry/gnupg
    fingerprint: "{{ signing_key.fingerprint }}"
    state: absent
"""

RETURN = r"""
fingerprint:
  description: The key's fingerprint, 40 upper-case hexadecimal digits. Not returned in check mode before the key exists.
  returned: state is present
  type: str
  sample: 3BCDC0C7E3F3F5D6A2B3E1A54D3D2B8C9E6F1A2B
key_id:
  description: The long key id (the last 16 hexadecimal digits of the fingerprint).
  returned: state is present
  type: str
  sample: 4D3D2B8C9E6F1A2B
uid:
  description: The key's user id.
  returned: always
  type: str
  sample: example.com ACI signing key <aci-signing@example.com>
algorithm:
  description: The key's algorithm, named as in O(algorithm).
  returned: state is present
  type: str
  sample: rsa4096
key_size:
  description: The key size in bits.
  returned: state is present
  type: int
  sample: 4096
created:
  description: When the key was created, ISO 8601 UTC.
  returned: state is present
  type: str
  sample: '2026-11-27T04:53:08Z'
expires:
  description: When the key expires, ISO 8601 UTC, or V(null) when it never expires.
  returned: state is present
  type: str
  sample: '2028-11-26T04:53:08Z'
public_key:
  description: The ASCII-armored public key (exactly one key), as written to O(public_key_path).
  returned: state is present
  type: str
  sample: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGkD...\n-----END PGP PUBLIC KEY BLOCK-----\n"
public_key_path:
  description: The public key file, when O(public_key_path) is set.
  returned: state is present and O(public_key_path) is set
  type: str
  sample: /srv/aci/pubkeys.gpg
secret_key_backup_path:
  description: The secret key backup file, when O(secret_key_backup_path) is set.
  returned: state is present and O(secret_key_backup_path) is set
  type: str
  sample: /root/aci-signing-key.secret.asc
deleted:
  description: Fingerprints of the keys deleted (or that would be deleted in check mode).
  returned: state is absent
  type: list
  elements: str
  sample: [3BCDC0C7E3F3F5D6A2B3E1A54D3D2B8C9E6F1A2B]
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import files
from ansible_collections.aci.registry.plugins.module_utils import gpg as gpgutil


def _summary(key):
    """The part of a key a diff shows."""
    if key is None:
        return {}
    return dict(fingerprint=key['fingerprint'], uid=key['uid'], algorithm=key['algorithm'],
                expires=gpgutil.iso_time(key['expires']))


def _key_result(key, public_key):
    return dict(fingerprint=key['fingerprint'], key_id=key['key_id'], uid=key['uid'], algorithm=key['algorithm'],
                key_size=key['key_size'], created=gpgutil.iso_time(key['created']),
                expires=gpgutil.iso_time(key['expires']), public_key=public_key)


def _refuse_keys_rkt_cannot_read(module, gpg, keys, uid):
    """Fail on a key under ``uid`` that rkt cannot read: it is neither used nor replaced."""
    for key in keys:
        problem = gpgutil.rkt_problem(key, gpg)
        if problem:
            module.fail_json(msg='gnupghome holds key %s with user id %r: %s This key is neither used nor '
                             'replaced: delete it with state=absent and fingerprint=%s, or choose another '
                             'user id.' % (key['fingerprint'], uid, problem, key['fingerprint']))


def _refuse_existing_key_rkt_cannot_read(module, home, uid):
    """With a refused algorithm asked for: an unreadable key already under ``uid`` is the bigger
    problem (fixing the request alone would only meet it on the next run), so name it first."""
    if not gpgutil.has_keyring(home):
        return  # no key to name, and reading would make gpg create a keyring
    try:
        gpg = gpgutil.open_home(home)
        keys = gpgutil.find_keys_by_uid(gpg, uid)
    except gpgutil.GpgError:
        return  # the refused algorithm is still worth reporting
    _refuse_keys_rkt_cannot_read(module, gpg, keys, uid)


def _write(module, path, content, mode):
    try:
        files.write_file(module, path, content=content, default_mode=mode)
    except (IOError, OSError) as e:
        module.fail_json(msg='Cannot write %s: %s' % (path, e))


def _present(module, result):
    p = module.params
    home = p['gnupghome']
    uid = gpgutil.build_uid(p['name_real'], p['name_email'], p['name_comment'])
    try:
        gpgutil.check_algorithm(p['algorithm'])
    except gpgutil.GpgError:
        _refuse_existing_key_rkt_cannot_read(module, home, uid)
        raise
    expire = gpgutil.parse_expire(p['expire'])
    passphrase = p['passphrase']
    if passphrase is None and not p['unprotected']:
        module.fail_json(msg='Give passphrase, or set unprotected=true for a key without a passphrase.')
    if passphrase is not None and p['unprotected']:
        module.fail_json(msg='passphrase and unprotected=true are mutually exclusive.')
    gpgutil.check_passphrase_text(passphrase)
    result['uid'] = uid
    # Fail on an unwritable destination before spending seconds on a key.
    for path in (p['public_key_path'], p['secret_key_backup_path']):
        if path:
            files.check_writable_dir(module, path)

    changed = bool(gpgutil.prepare_home(home, module.check_mode))
    before = after = None
    if module.check_mode and not os.path.isdir(home):
        result['changed'] = True
        result['diff'] = dict(before={}, after=dict(uid=uid, algorithm=p['algorithm'], expire=p['expire']))
        return

    gpg = gpgutil.open_home(home)
    matches = gpgutil.find_keys_by_uid(gpg, uid)
    _refuse_keys_rkt_cannot_read(module, gpg, matches, uid)
    secret = [k for k in matches if k['secret']]
    if len(secret) > 1:
        module.fail_json(msg='%d secret keys carry the user id %r (%s); delete the extra ones with state=absent '
                         'and fingerprint.' % (len(secret), uid, ', '.join(k['fingerprint'] for k in secret)))
    if not secret and matches:
        module.fail_json(msg='gnupghome holds public key %s with user id %r but not its secret key; remove it '
                         'or choose another user id.' % (matches[0]['fingerprint'], uid))

    if not secret:
        changed = True
        if module.check_mode:
            result.update(changed=True, diff=dict(before={}, after=dict(uid=uid, algorithm=p['algorithm'],
                                                                        expire=p['expire'])))
            return
        fpr = gpgutil.generate_key(gpg, p['name_real'], p['name_email'], p['name_comment'], p['algorithm'],
                                   p['expire'], passphrase)
        key = gpgutil.get_key(gpg, fpr)
    else:
        key = before = secret[0]
        if key['revoked']:
            module.fail_json(msg='Key %s (%s) has been revoked; delete it with state=absent to create a new one.'
                             % (key['fingerprint'], uid))
        if key['algorithm'] != p['algorithm']:
            module.fail_json(msg='Key %s with user id %r is %s, not %s; a key is never replaced silently: delete '
                             'it with state=absent first, or choose another user id.'
                             % (key['fingerprint'], uid, key['algorithm'], p['algorithm']))
        wanted = gpgutil.wanted_expiry(expire, key['created'])
        if not gpgutil.same_expiry(key['expires'], wanted):
            changed = True
            if not module.check_mode:
                gpgutil.set_expiry(gpg, key['fingerprint'], wanted, passphrase)
                key = gpgutil.get_key(gpg, key['fingerprint'])
            else:
                key = dict(key, expires=wanted, expired=bool(wanted and wanted <= time.time()))
        if key['expired']:
            module.warn('Key %s expired on %s: it cannot sign. Set expire to a later date or a longer period to '
                        'extend it.' % (key['fingerprint'], gpgutil.iso_time(key['expires'])))
        elif not (key if not module.check_mode else before)['expired']:
            # The passphrase is part of what is asked for: a wrong one must fail now, not at signing time.
            # (An expired key cannot sign, so in check mode its pending extension cannot be tested.)
            gpgutil.check_passphrase(gpg, key['fingerprint'], passphrase)
    after = key

    public_key = gpgutil.export_public_key(gpg, key['fingerprint'])
    result.update(_key_result(key, public_key))
    diffs = [dict(before=_summary(before), after=_summary(after), before_header='key', after_header='key')]

    path = p['public_key_path']
    if path:
        result['public_key_path'] = path
        old = files.read_bytes(path)
        if old != public_key.encode('ascii'):
            changed = True
            diffs.append(dict(before=old.decode('utf-8', 'replace') if old is not None else '', after=public_key,
                              before_header=path, after_header=path))
            if not module.check_mode:
                _write(module, path, public_key.encode('ascii'), 0o644)
        else:
            changed = files.apply_file_attributes(module, path, changed, default_mode=0o644)

    path = p['secret_key_backup_path']
    if path:
        result['secret_key_backup_path'] = path
        held = gpgutil.scan_key_file(gpg, path) if os.path.isfile(path) else []
        if held == [dict(fingerprint=key['fingerprint'], secret=True)]:
            changed = files.apply_file_attributes(module, path, changed, default_mode=0o600)
        else:
            changed = True
            if not module.check_mode:
                _write(module, path, gpgutil.export_secret_key(gpg, key['fingerprint'], passphrase).encode('ascii'),
                       0o600)

    result['changed'] = changed
    result['diff'] = diffs


def _absent(module, result):
    p = module.params
    home = p['gnupghome']
    if p['fingerprint']:
        fpr = gpgutil.normalize_fingerprint(p['fingerprint'])
    elif p['name_real']:
        fpr = None
        result['uid'] = gpgutil.build_uid(p['name_real'], p['name_email'], p['name_comment'])
    else:
        module.fail_json(msg='state=absent needs fingerprint, or name_real (with name_email and name_comment as '
                         'when the key was created) to find the key by user id.')
    result['deleted'] = []
    if not os.path.isdir(home):
        return
    gpg = gpgutil.open_home(home)
    if fpr:
        key = gpgutil.get_key(gpg, fpr)
        keys = [key] if key else []
    else:
        keys = gpgutil.find_keys_by_uid(gpg, result['uid'])
    for key in keys:
        if not module.check_mode:
            gpgutil.delete_key(gpg, key['fingerprint'])
        result['deleted'].append(key['fingerprint'])
    result['changed'] = bool(keys)
    result['diff'] = dict(before=dict(keys=[_summary(k) for k in keys]), after=dict(keys=[]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gnupghome=dict(type='path', required=True),
            name_real=dict(type='str'),
            name_email=dict(type='str'),
            name_comment=dict(type='str'),
            fingerprint=dict(type='str'),
            algorithm=dict(type='str', default=gpgutil.DEFAULT_ALGORITHM,
                           choices=list(gpgutil.ALGORITHMS) + list(gpgutil.REFUSED_ALGORITHMS)),
            expire=dict(type='str', default='never'),
            passphrase=dict(type='str', no_log=True),
            unprotected=dict(type='bool', default=False),
            public_key_path=dict(type='path'),
            secret_key_backup_path=dict(type='path'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        required_if=[('state', 'present', ['name_real'])],
        supports_check_mode=True,
    )
    gpgutil.require_gnupg(module)
    result = dict(changed=False)
    try:
        if module.params['state'] == 'present':
            _present(module, result)
        else:
            _absent(module, result)
    except gpgutil.GpgError as e:
        module.fail_json(msg=str(e), **({'stderr': e.stderr} if e.stderr else {}))
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
