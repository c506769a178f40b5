#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aci_replica_sync
short_description: Take a registry's new files from a peer replica over HTTPS, each checked before it is served
version_added: 0.3.0
description:
  - Runs on a registry replica. For each of O(checksums) that the web root at O(path) lacks, or holds with other bytes,
    it downloads the file from the peer replica at O(peer) over HTTPS into a temporary file beside its destination,
    and moves it into place only when its checksum is the one given in O(checksums).
  - The checksums are the controller's, listed from the files it built and signed, so a file that passes is exactly
    the file the controller signed. The peer is trusted with nothing but carrying the bytes.
  - Where the host has gpg and python-gnupg, every C(.aci) is also verified against its C(.aci.asc) with the
    web root's C(pubkeys.gpg), by the code M(aci.registry.aci_fetch) uses. Without them the checksum is the check.
  - A file the peer cannot give (the peer is down, TLS fails, an HTTP error, a redirect, other bytes, too large) is
    not written and not fatal. It is listed in RV(not_fetched) for the caller to copy from the controller, so a replica
    that loses its peer stays consistent and only costs bytes. After the peer is found unreachable it is not asked
    for the remaining files.
  - TLS is always verified. The module connects to the address of O(peer) and checks the certificate for
    O(server_name), which is also sent as the C(Host) header, as C(curl --resolve) does.
author:
  - aci.registry maintainers (!UNKNOWN)
requirements:
  - gpg and python-gnupg on the host for the signature check of images (optional, see above)
options:
  path:
    description: The web root of this replica.
    type: path
    required: true
  peer:
    description: The base C(https://) URL of the peer replica's address, such as V(https://10.88.0.5:443).
    type: str
    required: true
  server_name:
    description:
      - The name the peer's certificate must carry, sent as the TLS server name and the C(Host) header. Usually the
        registry domain the replicas share.
    type: str
    required: true
  checksums:
    description:
      - The web-root files to have, each path relative to the web root (such as V(app/v1-linux-amd64.aci)) with its
        checksum on the controller, in hex, by O(checksum_algorithm).
      - A mapping, so that a role makes it from two listings with C(zip) and no loop.
    type: dict
    required: true
  sizes:
    description: The size in bytes of some or all of O(checksums) on the controller. The download stops once the peer
      sends more.
    type: dict
    default: {}
  checksum_algorithm:
    description: The algorithm of O(checksums) (V(sha1) is what C(ansible.builtin.find) lists by default).
    type: str
    choices: [sha1, sha256, sha512]
    default: sha1
  max_size:
    description: The largest file to download, in bytes or with a unit (V(512M), V(4G)), whatever O(sizes) says.
    type: str
    default: 4G
extends_documentation_fragment:
  - aci.registry.https_client
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files  # not ansible.builtin.: ansible-core 2.19 resolves that to the files fragment
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details: Reports in RV(fetched) the files that differ; the peer is not contacted and nothing is written.
  diff_mode:
    support: none
  platform:
    platforms: posix
  safe_file_operations:
    support: full
    details: Each file is downloaded to a temporary file beside its destination, checked there, and only then renamed
      over it.
  vault:
    support: none
seealso:
  - module: aci.registry.aci_fetch
  - module: ansible.builtin.find
"""

EXAMPLES = r"""
- name: Take the new files from the replica that already has them
  aci.registry.aci_replica_sync:
    path: /srv/aci-registry
    peer: https://10.88.0.5
    server_name: registry.example.com
    checksums:
      pubkeys.gpg: 3f786850e387550fdab836ed7e6dc881de23001b
      app/v1-linux-amd64.aci: 89e6c98d92887913cadf06b2adb97f26cde4849b
      app/v1-linux-amd64.aci.asc: 2b66fd261ee5c6cfc8de7fa466bab600bcfe4f69
    sizes:
      app/v1-linux-amd64.aci: 2048000
    owner: root
    group: root
    mode: "0644"
  register: replicated

- name: Copy from the controller what the peer could not give
  ansible.builtin.copy:
    src: "build/{{ item.path }}"
    dest: "/srv/aci-registry/{{ item.path }}"
    mode: "0644"
  loop: "{{ replicated.not_fetched }}"
"""

RETURN = r"""
fetched:
  description: The files taken from the peer and moved into place (in check mode, the files that would be asked for).
  returned: always
  type: list
  elements: str
  sample: [app/v1-linux-amd64.aci.asc, app/v1-linux-amd64.aci]
not_fetched:
  description:
    - The files not taken, left as they were, each with the reason.
    - Not C(failed), which Ansible reads as the task's own failure.
  returned: always
  type: list
  elements: dict
  sample: [{path: app/v1-linux-amd64.aci, reason: "cannot reach https://10.88.0.5/app/v1-linux-amd64.aci ..."}]
bytes:
  description: Bytes downloaded from the peer into files that were kept.
  returned: always
  type: int
signatures_checked:
  description: How many images were also verified with gpg (0 where the host has no gpg or python-gnupg).
  returned: always
  type: int
peer:
  description: The peer asked.
  returned: always
  type: str
msg:
  description: What was taken and what was not.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, https, replica


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            peer=dict(type='str', required=True),
            server_name=dict(type='str', required=True),
            checksums=dict(type='dict', required=True),
            sizes=dict(type='dict', default={}),
            checksum_algorithm=dict(type='str', choices=['sha1', 'sha256', 'sha512'], default='sha1'),
            max_size=dict(type='str', default='4G'),
            **https.argument_spec()
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    converge.run(module, replica.ReplicaFiles(module))


if __name__ == '__main__':
    main()
