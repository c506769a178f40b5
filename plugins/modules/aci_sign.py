#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: aci_sign
short_description: Write a detached OpenPGP signature of an ACI that rkt can verify
version_added: 0.1.0
description:
  - Signs a file (typically an C(.aci) image) with a key from a GnuPG home and writes the detached,
    ASCII-armored signature next to it (C(<file>.asc)), the form rkt fetches and checks.
  - Idempotent. An existing signature that verifies the current bytes of the file with the same key is
    kept. A changed file, another key, or a damaged signature file causes a new signature.
  - Before it is written, each new signature is verified against the key's exported public key, in a
    temporary keyring that holds only that key, as a client would after C(rkt trust).
  - Only signatures rkt verifies are kept. rkt 1.30 fails an RSA signature whose value begins with a
    zero byte (about 1 signature in 200; gpg accepts it), so such a signature is made again a second
    later, and an existing one is replaced.
  - The signature file is replaced atomically, so a failure leaves the previous signature as it was.
  - The passphrase is only used when a signature has to be made. A run that keeps a valid signature does
    not unlock the key.
author:
  - aci.registry maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
  - aci.registry.gnupg
attributes:
  check_mode:
    support: full
    details:
      - In check mode a signature that would be written is still made in memory, so a wrong passphrase
        or an unusable key fails in check mode too. Nothing is written.
  diff_mode:
    support: full
    details:
      - Shows the signature file, the signer and the digest of the signed file before and after. The signer
        before is the key asked for when the existing signature verifies the current file with it, and
        V(null) otherwise.
  platform:
    platforms: posix
options:
  path:
    description:
      - The file to sign.
    type: path
    required: true
  dest:
    description:
      - Where to write the signature. The default is O(path) with C(.asc) appended.
      - Its directory must exist.
    type: path
  fingerprint:
    description:
      - The fingerprint (40 hexadecimal digits, spaces allowed) of the key to sign with, for example
        the RV(aci.registry.gpg_key#module:fingerprint) returned by M(aci.registry.gpg_key).
      - Key ids are refused because they are too short to name a key safely.
      - The key must be in O(gnupghome) with its secret part, must not be expired or revoked, and must
        be an RSA or DSA key. rkt 1.30's OpenPGP library (a 2016 C(golang.org/x/crypto/openpgp)) reads
        no other kind, so an ECDSA or EdDSA key is refused even though gpg can sign with it.
    type: str
    required: true
  backup:
    description:
      - Keep a timestamped copy of a signature file that is replaced.
    type: bool
    default: false
  mode:
    description:
      - The permissions of the signature file. The default, when unset, is C(0644). Signatures are public.
notes:
  - To check a signature by hand the way rkt does, import only the published public key into an empty
    keyring, then run C(gpg --verify image.aci.asc image.aci).
seealso:
  - module: aci.registry.gpg_key
"""

EXAMPLES = r"""
- name: Sign an image for the registry
  aci.registry.aci_sign:
    path: /srv/aci/example.com/hello-0.1-linux-amd64.aci
    gnupghome: /var/lib/aci-registry/gnupg
    fingerprint: "{{ signing_key.fingerprint }}"
    passphrase: "{{ aci_signing_passphrase }}"

- name: Signature in another place, readable by the web server's group only
  aci.registry.aci_sign:
    path: /build/hello.aci
    dest: /srv/aci/example.com/hello-0.1-linux-amd64.aci.asc
    gnupghome: /var/lib/ci/gnupg
    fingerprint: 3BCD C0C7 E3F3 F5D6 A2B3  E1A5 4D3D 2B8C 9E6F 1A2B
    owner: root
    group: www-data
    mode: '0640'
"""

RETURN = r"""
signer_fingerprint:
  description: The fingerprint of the primary key that made the signature.
  returned: success
  type: str
  sample: 3BCDC0C7E3F3F5D6A2B3E1A54D3D2B8C9E6F1A2B
signature_path:
  description: The signature file.
  returned: success
  type: str
  sample: /srv/aci/example.com/hello-0.1-linux-amd64.aci.asc
sha512:
  description: The SHA-512 digest of the signed file, in hexadecimal.
  returned: success
  type: str
  sample: 6b6c0e8f5e3a1c1f0f9f1b53ad1a7d8ad0f2a3b71b8c3e5e2d4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b
backup_file:
  description: The copy of the previous signature file, when O(backup=true) and it was replaced.
  returned: changed and O(backup=true)
  type: str
  sample: /srv/aci/hello.aci.asc.12345.2026-11-27@04:53:08~
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import files
from ansible_collections.aci.registry.plugins.module_utils import gpg as gpgutil


def _signing_key(module, gpg, fingerprint, home):
    """The key to sign with, or a failure that says what is wrong with it."""
    key = gpgutil.get_key(gpg, fingerprint)
    if key is None:
        module.fail_json(msg='Unknown key: no key with fingerprint %s in gnupghome %s.' % (fingerprint, home))
    if not key['secret']:
        module.fail_json(msg='gnupghome %s holds only the public part of key %s; signing needs its secret key.'
                         % (home, key['fingerprint']))
    if key['revoked']:
        module.fail_json(msg='Key %s has been revoked; it must not sign anything.' % key['fingerprint'])
    if key['expired']:
        module.fail_json(msg='Key %s expired on %s; extend it (aci.registry.gpg_key expire) or sign with another key.'
                         % (key['fingerprint'], gpgutil.iso_time(key['expires'])))
    problem = gpgutil.rkt_problem(key, gpg)
    if problem:
        module.fail_json(msg='Key %s: %s' % (key['fingerprint'], problem))
    capabilities = key['capabilities'] + ''.join(s['capabilities'] for s in key['subkeys']
                                                 if s['validity'] not in ('e', 'r'))
    if 'S' not in capabilities and 's' not in capabilities:
        module.fail_json(msg='Key %s has no usable signing capability.' % key['fingerprint'])
    return key


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            dest=dict(type='path'),
            gnupghome=dict(type='path', required=True),
            fingerprint=dict(type='str', required=True),
            passphrase=dict(type='str', no_log=True),
            backup=dict(type='bool', default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    gpgutil.require_gnupg(module)
    p = module.params
    path = p['path']
    dest = p['dest'] or path + '.asc'
    home = p['gnupghome']
    result = dict(changed=False, path=path, signature_path=dest)

    if not os.path.exists(path):
        module.fail_json(msg='File to sign %s does not exist.' % path, **result)
    if not os.path.isfile(path):
        module.fail_json(msg='File to sign %s is not a regular file.' % path, **result)
    if not os.access(path, os.R_OK):
        module.fail_json(msg='File to sign %s is not readable by this user.' % path, **result)
    if os.path.isdir(dest):
        module.fail_json(msg='Signature destination %s is a directory.' % dest, **result)
    files.check_writable_dir(module, dest)
    existed = os.path.exists(dest)

    try:
        fingerprint = gpgutil.normalize_fingerprint(p['fingerprint'])
        gpgutil.check_passphrase_text(p['passphrase'])
        gpg = gpgutil.open_home(home)
        key = _signing_key(module, gpg, fingerprint, home)
        public_key = gpgutil.export_public_key(gpg, key['fingerprint'])
        result['sha512'] = module.digest_from_file(path, 'sha512')
        previous = gpgutil.read_signature_signer(public_key, path, dest)
        if previous == key['fingerprint']:
            result['signer_fingerprint'] = previous
            result['changed'] = files.apply_file_attributes(module, dest, False, default_mode=0o644)
        else:
            # Signing in check mode too: it changes nothing, and a wrong passphrase must show now.
            signature, signer = gpgutil.sign_and_check(gpg, key['fingerprint'], path, p['passphrase'])
            result.update(changed=True, signer_fingerprint=signer)
            if not module.check_mode:
                try:
                    backup_file = files.write_file(module, dest, content=signature, default_mode=0o644,
                                                   backup=p['backup'])
                except (IOError, OSError) as e:
                    module.fail_json(msg='Cannot write signature %s: %s' % (dest, e), **result)
                if backup_file:
                    result['backup_file'] = backup_file
    except gpgutil.GpgError as e:
        module.fail_json(msg=str(e), **dict(result, **({'stderr': e.stderr} if e.stderr else {})))

    if module._diff:
        # "before" names the signer only when the old signature verifies the file as it is now.
        result['diff'] = dict(
            before=dict(signature=dest if existed else None, signer=previous,
                        signed_sha512=result['sha512'] if previous else None),
            after=dict(signature=dest, signer=result['signer_fingerprint'], signed_sha512=result['sha512']),
        )
    module.exit_json(**result)


if __name__ == '__main__':
    main()
