#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpg_key
short_description: Create or import an OpenPGP signing key for ACIs and export its public key for rkt
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
  - With O(secret_key), imports a key made elsewhere instead (kept in a vault or an AWX credential, for
    controllers that start afresh on every run, such as AWX execution environments). The key is checked and
    unlocked in a temporary GnuPG home first, so a key that is not exactly one RSA secret key rkt can read,
    or a wrong passphrase, fails before the GnuPG home is touched.
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
      - A key given as O(secret_key) is read, and its passphrase checked, in a temporary GnuPG home that
        is removed afterwards, in check mode too.
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
      - Required with O(state=present) unless O(secret_key) is given (an imported key keeps its own user
        id, so this option and O(name_email) and O(name_comment) do not go with O(secret_key)). With
        O(state=absent), selects the keys to delete when O(fingerprint) is not given.
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
      - Not with O(secret_key). A key to import must be RSA of 2048 bits or more, and rkt must be able to
        read it; other keys are refused with the same reasons.
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
      - Not with O(secret_key). An imported key keeps the expiry it has. Of the key in O(secret_key) and
        the copy already in the GnuPG home, the one with the newer self-signature wins, as in C(gpg --import).
    type: str
    default: never
  unprotected:
    description:
      - Set to V(true) to create (or accept, or import) a key without a passphrase, for example for unattended
        signing on a build host. Mutually exclusive with O(passphrase).
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
  secret_key:
    description:
      - An ASCII-armored secret key to import instead of making one, as
        C(gpg --export-secret-keys --armor FINGERPRINT) prints it. The text itself, not a file name (for a
        file on the controller, use the C(ansible.builtin.file) lookup).
      - It must hold exactly one primary key, with its secret part, RSA of 2048 bits or more and readable by
        rkt 1.30, not revoked. O(passphrase) must unlock it, or O(unprotected=true) for a key without one.
        Anything else fails before the GnuPG home is touched.
      - A key already in the GnuPG home is not imported again, so this is idempotent. Other keys in the home are
        kept (with a warning), never replaced; the module returns, and writes to O(public_key_path), the key given.
      - Never logged, returned or shown in a diff.
      - Only with O(state=present). Mutually exclusive with O(name_real), O(name_email), O(name_comment),
        O(algorithm) and O(expire).
    type: str
    version_added: 0.2.0
  state:
    description:
      - V(present) creates (or imports) the key and writes the files. V(absent) deletes the key (secret and public)
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

- name: Import the registry's signing key from a vault, where the controller starts empty on every run (AWX)
  aci.registry.gpg_key:
    gnupghome: /var/lib/aci-registry/gnupg
    secret_key: "{{ vault_aci_signing_secret_key }}"
    passphrase: "{{ vault_aci_signing_passphrase }}"
    public_key_path: /srv/aci/pubkeys.gpg
  no_log: true

- name: Retire a key
  aci.registry.gpg_key:
    gnupghome: /var/lib/aci-registry/gnupg
    fingerprint: "{{ signing_key.fingerprint }}"
    state: absent
"""

RETURN = r"""
fingerprint:
  description:
    - The key's fingerprint, 40 upper-case hexadecimal digits.
    - Not returned in check mode before a key is made. Returned for a key given in O(secret_key), in check mode too.
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, gpg, gpg_key_state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gnupghome=dict(type='path', required=True),
            name_real=dict(type='str'),
            name_email=dict(type='str'),
            name_comment=dict(type='str'),
            fingerprint=dict(type='str'),
            algorithm=dict(type='str', default=gpg.DEFAULT_ALGORITHM,
                           choices=list(gpg.ALGORITHMS) + list(gpg.REFUSED_ALGORITHMS)),
            expire=dict(type='str', default='never'),
            passphrase=dict(type='str', no_log=True),
            unprotected=dict(type='bool', default=False),
            public_key_path=dict(type='path'),
            secret_key_backup_path=dict(type='path'),
            secret_key=dict(type='str', no_log=True),
            state=dict(type='str', default='present', choices=list(gpg_key_state.STATES)),
        ),
        required_if=[('state', 'present', ['name_real', 'secret_key'], True)],
        # Checked before defaults apply: only an algorithm or expire the task sets conflicts.
        mutually_exclusive=[('secret_key', option) for option in gpg_key_state.IMPORT_CONFLICTS],
        supports_check_mode=True,
    )
    gpg.require_gnupg(module)
    converge.run(module, gpg_key_state.resource(module))


if __name__ == '__main__':
    main()
