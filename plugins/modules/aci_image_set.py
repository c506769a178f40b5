#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: aci_image_set
short_description: Build and sign a whole set of appc images (ACI) in one step
version_added: 0.2.0
description:
  - Builds every image of O(images) whose bytes would change and signs every image whose signature is
    missing or no longer verifies the image with the key, in one module run. The publish role uses it so that a
    rerun costs one module run, not four per image.
  - Each image is built exactly as M(aci.registry.aci_build) builds it (M(aci.registry.aci_from_docker) for a
    Docker archive) and signed exactly as M(aci.registry.aci_sign) signs it; the same code runs. So an unchanged
    image is recognised the way those modules recognise it, by streaming its tar and comparing it with the file,
    never by a timestamp.
  - Every image is checked and compared before anything is written. Bad input (a missing source, a manifest
    field appc refuses, an unusable key) fails the task naming each bad image, and nothing is written.
  - Images are written to a temporary file and renamed into place, so a failure while writing leaves each
    image either as it was or complete.
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
      - Reports what would be built and signed; writes nothing. An image that would be rebuilt counts as a
        signature to make too; an upstream image not fetched yet counts as an image to build.
  diff_mode:
    support: none
  platform:
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
options:
  images:
    description:
      - The images, as the P(aci.registry.aci_image_records#filter) filter makes them from the publish role's
        C(publish_images) - name, version, os, arch, labels, latest, kind, source, manifest, owner_root,
        compression and C(dest), the image file to build.
      - Each image's options are checked as M(aci.registry.aci_build) (or M(aci.registry.aci_from_docker))
        checks its own.
    type: list
    elements: dict
    required: true
  fingerprint:
    description:
      - The fingerprint of the key to sign with, as M(aci.registry.aci_sign) takes it.
      - In check mode it may be empty, for a key this run would make; every image then counts as to be signed.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Build and sign every image of the publish role
  aci.registry.aci_image_set:
    images: "{{ publish_images | aci.registry.aci_image_records('registry.example.com', '/srv/build') }}"
    gnupghome: /srv/gnupg
    fingerprint: "{{ key.fingerprint }}"
    passphrase: "{{ vault_signing_passphrase }}"
  register: built

- name: Lay out the web root from what was built
  aci.registry.aci_webroot:
    path: /srv/aci-registry
    domain: registry.example.com
    images: "{{ built.images }}"
"""

RETURN = r"""
images:
  description: One entry per image, in order, as M(aci.registry.aci_webroot) takes them.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Full image name.
      type: str
      sample: registry.example.com/team/tool
    version:
      description: The C(version) label.
      type: str
      sample: "1.0"
    os:
      description: The C(os) label.
      type: str
      sample: linux
    arch:
      description: The C(arch) label.
      type: str
      sample: amd64
    latest:
      description: Whether the entry pins the C(latest) alias.
      type: bool
    image_id:
      description: The image ID, C(sha512-) and the SHA-512 of the uncompressed tar; empty when not known in check mode.
      type: str
    size:
      description: Size of the image file in bytes; 0 in check mode for an image that would change.
      type: int
    published:
      description:
        - When the image file was last written on the controller (its mtime), ISO 8601 in UTC. An unchanged image
          keeps it.
      type: str
      sample: "2026-12-03T07:30:00Z"
    exec:
      description: The manifest's C(app.exec), V([]) when it has none.
      type: list
      elements: str
    labels:
      description: The image's labels.
      type: dict
      sample: {version: "1.0", os: linux, arch: amd64}
    unpacked_size:
      description: Size of the uncompressed tar in bytes.
      type: int
changes:
  description: What happened to each image, in order.
  returned: success
  type: list
  elements: dict
  contains:
    image:
      description: The image file, relative to the build directory (and the web root).
      type: str
      sample: team/tool/1.0-linux-amd64.aci
    built:
      description: Why the image was (or in check mode would be) written - V(missing), V(content), V(compression); V([]) when kept.
      type: list
      elements: str
    signed:
      description: Why the signature was (or would be) made - V(missing), V(does not verify the file with the key); V([]) when kept.
      type: list
      elements: str
    changed:
      description: Whether anything of this image changed, its file attributes included.
      type: bool
failures:
  description: On failure, one message per image that failed.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import image_set


def main():
    module = AnsibleModule(
        argument_spec=dict(
            images=dict(type='list', elements='dict', required=True),
            gnupghome=dict(type='path', required=True),
            fingerprint=dict(type='str', required=True),
            passphrase=dict(type='str', no_log=True),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    image_set.run(module)


if __name__ == '__main__':
    main()
