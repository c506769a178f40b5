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
  - action_common_attributes.files  # not ansible.builtin.: ansible-core 2.19 resolves that to the files fragment
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
  safe_file_operations:
    support: full
  vault:
    support: none
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, signature


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
    converge.run(module, signature.Signature(module))


if __name__ == '__main__':
    main()
