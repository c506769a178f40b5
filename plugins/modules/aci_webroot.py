#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aci_webroot
short_description: Lay out the appc discovery pages, latest aliases and catalog of an ACI registry web root
version_added: 0.1.0
description:
  - Makes a registry web root serve exactly the listed images. The image files
    (C(<path>/<version>-<os>-<arch>.aci)), their signatures (C(.aci.asc)) and C(pubkeys.gpg) must already be
    there (the C(aci.registry.publish) role copies them first); this module refuses to write a page that would
    point at a file that is not there.
  - Writes one discovery page per image name under C(.discovery/) (the C(aci.registry.server) role answers
    C(GET /<path>?ac-discovery=1) with it), so C(host/app) and C(host/app1) each resolve to their own files.
  - Writes the catalog C(index.html) with discovery tags for every name (most specific first) and, for people, one
    section per name with its newest version (marked C(latest)) and the others folded away; each version with its
    os/arch, publication time, exec, labels, sizes, image ID and files; the signing key fingerprint and copy-paste
    C(rkt trust), C(rkt fetch) and C(rkt run) commands. A filter box (an inline script, also from C(file://)) narrows
    the list; C(#q=words) in the URL fills it in. Without JavaScript the page shows everything.
  - Writes C(index.json), the same list for programs (format C(aci.registry/index) version 1, read by
    M(aci.registry.aci_registry_info)) with the domain, signer fingerprint, key URL and, per image, name, version,
    os, arch, latest, size, unpacked_size, image_id, published, exec, labels, image_url and signature_url. Its bytes
    depend only on the options, so every replica serves the same file and an unchanged registry is not rewritten.
  - Points C(latest-<os>-<arch>.aci) (and C(.asc)) at the newest version of each name, so C(rkt fetch host/app)
    without a version works.
  - With O(prune=true), removes images, signatures and discovery pages that are no longer listed, after the pages
    stopped naming them. Files the layout does not own are never touched.
  - Every file is written atomically; an unchanged web root is not written at all.
author:
  - aci.registry maintainers (!UNKNOWN)
options:
  path:
    description: The web root directory. It must exist.
    type: path
    required: true
  domain:
    description:
      - The registry's DNS name, the first element of every image name it serves.
    type: str
    required: true
  port:
    description: HTTPS port in the discovery URLs. rkt only ever discovers on 443.
    type: int
    default: 443
  images:
    description: The images the registry serves.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Full image name, V(<domain>/<path>).
        type: str
        required: true
      version:
        description: The C(version) label.
        type: str
        required: true
      os:
        description: The C(os) label.
        type: str
        default: linux
      arch:
        description: The C(arch) label.
        type: str
        default: amd64
      image_id:
        description: The image ID (V(sha512-...)) shown in the catalog, as M(aci.registry.aci_build) returns it.
        type: str
        default: ''
      size:
        description: The image file size in bytes, shown in the catalog.
        type: int
        default: 0
      latest:
        description: Make this version the C(latest) alias even if a higher version is listed.
        type: bool
        default: false
      published:
        description:
          - When this version was published, in ISO 8601 UTC to the second (V(2026-12-03T07:30:00Z)), shown in
            the catalog and the index. Empty means unknown.
        type: str
        default: ''
      exec:
        description: The image's C(app.exec), shown in the catalog and the index (and in the C(rkt run) people copy).
        type: list
        elements: str
        default: []
      labels:
        description:
          - The image manifest's labels as a dict (V(channel=stable) and the like), shown in the catalog (all but
            version, os and arch, which have their own columns) and the index.
        type: dict
        default: {}
      unpacked_size:
        description: Bytes of the image's rootfs once unpacked, shown in the catalog and the index.
        type: int
        default: 0
  signer_fingerprint:
    description: Fingerprint of the signing key, shown in the catalog.
    type: str
    default: ''
  title:
    description: Heading of the catalog page. Defaults to V(ACI registry <domain>).
    type: str
    default: ''
  prune:
    description: Remove images, signatures and discovery pages that are not listed.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff lists the files that would be written, linked and removed, not their content.
  platform:
    platforms: posix
seealso:
  - module: aci.registry.aci_build
  - module: aci.registry.aci_sign
"""

EXAMPLES = r"""
- name: Serve two versions of app1 and one of team/tool
  aci.registry.aci_webroot:
    path: /srv/aci-registry
    domain: registry.example.com
    signer_fingerprint: 9E90CD8CA81488F286CB6683982367D1E8F76CF7
    images:
      - {name: registry.example.com/app1, version: v0.0.1, image_id: sha512-1f2e..., size: 1845467}
      - name: registry.example.com/app1
        version: v0.0.2
        published: "2026-12-03T07:30:00Z"
        exec: [/bin/app1, --serve]
        labels: {version: v0.0.2, os: linux, arch: amd64, channel: stable}
        unpacked_size: 5242880
      - {name: registry.example.com/team/tool, version: "1.0", arch: aarch64}
"""

RETURN = r"""
written:
  description: Web-root relative paths of the pages written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [.discovery/app1.html, index.html]
linked:
  description: The C(latest) aliases set, as C(alias -> target).
  returned: always
  type: dict
  sample: {app1/latest-linux-amd64.aci: v0.0.2-linux-amd64.aci}
removed:
  description: Web-root relative paths removed by O(prune).
  returned: always
  type: list
  elements: str
  sample: [old/v1-linux-amd64.aci, old/v1-linux-amd64.aci.asc, .discovery/old.html]
catalog:
  description: Absolute path of the catalog page.
  returned: always
  type: str
  sample: /srv/aci-registry/index.html
index:
  description: Absolute path of the machine-readable index.
  returned: always
  type: str
  sample: /srv/aci-registry/index.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, registry_site


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            domain=dict(type='str', required=True),
            port=dict(type='int', default=443),
            images=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                version=dict(type='str', required=True),
                os=dict(type='str', default='linux'),
                arch=dict(type='str', default='amd64'),
                image_id=dict(type='str', default=''),
                size=dict(type='int', default=0),
                latest=dict(type='bool', default=False),
                published=dict(type='str', default=''),
                exec=dict(type='list', elements='str', default=[]),
                labels=dict(type='dict', default={}),
                unpacked_size=dict(type='int', default=0),
            )),
            signer_fingerprint=dict(type='str', default=''),
            title=dict(type='str', default=''),
            prune=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    converge.run(module, registry_site.RegistrySite(module))


if __name__ == '__main__':
    main()
