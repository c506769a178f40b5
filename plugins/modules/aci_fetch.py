#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aci_fetch
short_description: Discover, download and verify an App Container Image the way C(rkt fetch) does
version_added: 0.1.0
description:
  - Does what C(rkt fetch NAME:VERSION) does, without rkt. It walks appc meta discovery over HTTPS
    (C(https://host/path?ac-discovery=1), then up the path), downloads the image and its detached signature,
    verifies the signature against the trusted key only, checks that the manifest's C(name) and
    C(version)/C(os)/C(arch) labels are the ones asked for, and only then moves the image into O(dest).
  - TLS certificates are always verified, with the system trust store (or O(ca_path)); there is no option to
    turn that off.
  - A bad signature, a wrong name or label, or any download error leaves O(dest) as it was.
  - When O(dest) already holds an image that the registry's current signature verifies, nothing is downloaded
    but the signature, and the result is unchanged.
author:
  - aci.registry maintainers (!UNKNOWN)
requirements:
  - gpg (GnuPG 2.2 or later) and the python-gnupg library on the host that runs the module
options:
  name:
    description:
      - Image name, optionally with C(:version) as rkt takes it (V(registry.example.com/app1:v0.0.1)).
    type: str
    required: true
  version:
    description:
      - The C(version) label. Wins over a version in O(name); without either, V(latest), which the
        aci.registry server answers with the newest version.
    type: str
  os:
    description:
      - The C(os) label asked for. It fills C({os}) in the discovered templates, and the image's manifest
        must have it.
    type: str
    default: linux
  arch:
    description:
      - The C(arch) label asked for, as appc spells it (V(amd64), V(aarch64)). It fills C({arch}) in the
        discovered templates, and the image's manifest must have it.
    type: str
    default: amd64
  dest:
    description:
      - Where to write the image. Its detached signature is kept beside it as C(<dest>.asc).
    type: path
    required: true
  trusted_key:
    description:
      - The one OpenPGP public key (armored) whose signature is accepted, as published at the registry's
        C(pubkeys.gpg).
      - Give this, O(trusted_key_path), or O(key_fingerprint) to use the key the registry publishes, pinned to
        that fingerprint.
      - Whichever way it comes, the key must be an RSA or DSA key. rkt 1.30 reads no other kind, so an ECDSA or
        EdDSA key fails the module as it fails C(rkt fetch), although gpg would verify its signatures.
    type: str
  trusted_key_path:
    description: A file holding the trusted public key (for example C(/etc/rkt/trustedkeys/prefix.d/...)).
    type: path
  key_fingerprint:
    description:
      - Accept the key found through C(ac-discovery-pubkeys) only if its fingerprint is this (40 hex digits,
        spaces allowed), like answering rkt's fingerprint prompt.
      - With O(trusted_key) or O(trusted_key_path), the signer must also have this fingerprint.
    type: str
  port:
    description: HTTPS port of the registry. rkt only ever uses 443; other ports are for tests.
    type: int
    default: 443
  max_size:
    description:
      - The largest image to download, in bytes or with a unit (V(512M), V(4G)).
      - The download stops as soon as the registry has sent more, and nothing is written, so a
        hostile or broken registry cannot fill the disk. Raise it for images larger than the default.
      - Signatures, public key files and discovery pages have a fixed limit of 1 MiB.
    type: str
    default: 4G
    version_added: 0.2.0
  force:
    description: Download the image even when O(dest) already holds a verified copy.
    type: bool
    default: false
extends_documentation_fragment:
  - aci.registry.https_client
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files  # not ansible.builtin.: ansible-core 2.19 resolves that to the files fragment
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details: Discovery and the signature download happen; the image is not downloaded or written.
  diff_mode:
    support: none
  platform:
    platforms: posix
  safe_file_operations:
    support: full
    details: The image is downloaded to a temporary file beside O(dest), verified there, and only then renamed
      over O(dest); the signature is written the same way.
  vault:
    support: none
seealso:
  - module: aci.registry.aci_sign
  - module: aci.registry.aci_webroot
  - name: App Container Image Discovery
    description: How a name and labels lead to the image and signature URLs and the public keys.
    link: https://github.com/appc/spec/blob/master/spec/discovery.md
  - name: rkt fetch
    description: The command whose discovery and trust rules this module follows.
    link: https://github.com/rkt/rkt/blob/master/Documentation/subcommands/fetch.md
"""

EXAMPLES = r"""
- name: Fetch app1 like `rkt fetch`, trusting the key rkt_client installed
  aci.registry.aci_fetch:
    name: registry.example.com/app1:v0.0.1
    dest: /var/lib/images/app1-v0.0.1.aci
    trusted_key_path: /etc/rkt/trustedkeys/prefix.d/registry.example.com/app1/9e90cd8ca81488f286cb6683982367d1e8f76cf7

- name: Fetch the newest app1, trusting the key the registry publishes if it has this fingerprint
  aci.registry.aci_fetch:
    name: registry.example.com/app1
    dest: /tmp/app1.aci
    key_fingerprint: 9E90 CD8C A814 88F2 86CB  6683 9823 67D1 E8F7 6CF7
"""

RETURN = r"""
image_id:
  description:
    - The image ID, C(sha512-) and the hex SHA-512 of the uncompressed image.
    - rkt shows its first 64 hexadecimal digits (C(rkt fetch --full), C(rkt image list --full)).
  returned: success, unless only checked in check mode
  type: str
  sample: sha512-af012352c31579df90db605baaa140de...
name:
  description: The manifest's name.
  returned: success
  type: str
  sample: registry.example.com/app1
version:
  description: The version asked for (V(latest) resolves to the manifest's version label when known).
  returned: success
  type: str
  sample: v0.0.1
signer:
  description: Fingerprint of the key that made the verified signature.
  returned: success
  type: str
  sample: 9E90CD8CA81488F286CB6683982367D1E8F76CF7
aci_url:
  description: Where discovery said the image is.
  returned: success
  type: str
  sample: https://registry.example.com/app1/v0.0.1-linux-amd64.aci
discovery_page:
  description: The discovery page whose template was used.
  returned: success
  type: str
  sample: https://registry.example.com/app1?ac-discovery=1
downloaded:
  description: Whether the image itself was downloaded (not only its signature).
  returned: success
  type: bool
dest:
  description: The image path.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, fetch, https


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            version=dict(type='str'),
            os=dict(type='str', default='linux'),
            arch=dict(type='str', default='amd64'),
            dest=dict(type='path', required=True),
            trusted_key=dict(type='str', no_log=False),
            trusted_key_path=dict(type='path'),
            # A fingerprint is public: it names the key, it does not unlock it.
            key_fingerprint=dict(type='str', no_log=False),
            port=dict(type='int', default=443),
            max_size=dict(type='str', default='4G'),
            force=dict(type='bool', default=False),
            **https.argument_spec()
        ),
        mutually_exclusive=[('trusted_key', 'trusted_key_path')],
        required_one_of=[('trusted_key', 'trusted_key_path', 'key_fingerprint')],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    converge.run(module, fetch.FetchedImage(module))


if __name__ == '__main__':
    main()
