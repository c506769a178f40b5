#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aci_registry_info
short_description: Read what an ACI registry publishes, from its web root or over HTTPS
version_added: 0.2.0
description:
  - Reads the C(index.json) that M(aci.registry.aci_webroot) writes beside the catalog, from a web root on the
    host (O(path)) or from the registry itself (O(url)), and returns its images, signing key fingerprint and key URL,
    so a playbook can check what is published.
  - Over HTTPS the certificate is always verified (the system trust store, or O(ca_path)), a redirect is followed only
    to another C(https://) URL, and an index over 32 MiB is refused.
  - An index that is missing, not JSON, not this collection's, or of another format version fails the module with
    what to do about it.
  - Changes nothing; C(changed) is always false.
author:
  - aci.registry maintainers (!UNKNOWN)
options:
  path:
    description:
      - The registry's web root on the host running the module (the server role's C(server_webroot)).
      - Exactly one of O(path) and O(url) is required.
    type: path
  url:
    description:
      - The registry's root URL (V(https://registry.example.com), with a port if not 443), or the URL of its index.
    type: str
  name:
    description: Return only the images with one of these full names (V(registry.example.com/app1)). All when empty.
    type: list
    elements: str
    default: []
  version:
    description: Return only this version; V(latest) returns the version each C(latest) alias points at.
    type: str
    default: ''
  os:
    description: Return only images for this C(os) label.
    type: str
    default: ''
  arch:
    description: Return only images for this C(arch) label.
    type: str
    default: ''
  check_files:
    description:
      - With O(path), fail unless every image and signature the returned images need, and C(pubkeys.gpg), is a file
        in the web root. Ignored with O(url).
    type: bool
    default: false
extends_documentation_fragment:
  - aci.registry.https_client
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: aci.registry.aci_webroot
  - module: aci.registry.aci_fetch
"""

EXAMPLES = r"""
- name: What does the registry serve? (on the registry host)
  aci.registry.aci_registry_info:
    path: /srv/aci-registry
    check_files: true
  register: published

- name: The version of app1 that `rkt fetch registry.example.com/app1` gets, asked from a client
  aci.registry.aci_registry_info:
    url: https://registry.example.com
    name: registry.example.com/app1
    version: latest
    ca_path: /usr/local/share/ca-certificates/aci-registry-ca.crt
  register: app1

- name: Fail unless v0.0.2 is published and signed by the expected key
  ansible.builtin.assert:
    that:
      - "'v0.0.2' in app1.images | map(attribute='version')"
      - app1.signer_fingerprint == '9E90CD8CA81488F286CB6683982367D1E8F76CF7'
"""

RETURN = r"""
source:
  description: The index read, a path or a URL.
  returned: always
  type: str
  sample: https://registry.example.com/index.json
format_version:
  description: The index format version (this collection writes and reads 1).
  returned: always
  type: int
  sample: 1
domain:
  description: The registry's domain, the first element of every image name.
  returned: always
  type: str
  sample: registry.example.com
signer_fingerprint:
  description: Fingerprint of the key that signs the images (empty when the publisher did not give it).
  returned: always
  type: str
  sample: 9E90CD8CA81488F286CB6683982367D1E8F76CF7
key_url:
  description: URL of the registry's public key file.
  returned: always
  type: str
  sample: https://registry.example.com/pubkeys.gpg
names:
  description: The distinct names of the returned images, sorted.
  returned: always
  type: list
  elements: str
  sample: [registry.example.com/app1]
images:
  description: The images asked for, by name, newest version first, then os and arch.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "Full image name.", type: str, sample: registry.example.com/app1}
    version: {description: "The version label.", type: str, sample: v0.0.2}
    os: {description: "The os label.", type: str, sample: linux}
    arch: {description: "The arch label.", type: str, sample: amd64}
    latest: {description: "Whether the C(latest) alias of this name, os and arch points at this version.", type: bool}
    size: {description: "Image file size in bytes (0 when unknown).", type: int, sample: 1845467}
    unpacked_size: {description: "Bytes of the unpacked rootfs (0 when unknown).", type: int, sample: 5242880}
    image_id: {description: "The image ID (empty when unknown).", type: str, sample: sha512-1f2e...}
    published: {description: "When it was published, ISO 8601 UTC (empty when unknown).", type: str, sample: "2026-12-03T07:30:00Z"}
    exec: {description: "The image's app exec.", type: list, elements: str, sample: [/bin/app1]}
    labels: {description: "The manifest's labels.", type: dict, sample: {version: v0.0.2, os: linux, arch: amd64}}
    image_url: {description: "URL of the image.", type: str, sample: https://registry.example.com/app1/v0.0.2-linux-amd64.aci}
    signature_url: {description: "URL of its signature.", type: str, sample: https://registry.example.com/app1/v0.0.2-linux-amd64.aci.asc}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, https, registry_info


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path'),
            url=dict(type='str'),
            name=dict(type='list', elements='str', default=[]),
            version=dict(type='str', default=''),
            os=dict(type='str', default=''),
            arch=dict(type='str', default=''),
            check_files=dict(type='bool', default=False),
            **https.argument_spec()
        ),
        mutually_exclusive=[('path', 'url')],
        required_one_of=[('path', 'url')],
        supports_check_mode=True,
    )
    converge.run(module, registry_info.RegistryInfo(module))


if __name__ == '__main__':
    main()
