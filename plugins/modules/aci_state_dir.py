#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aci_state_dir
short_description: Keep the controller's aci.registry state directory private and out of git
version_added: 0.2.0
description:
  - Creates the directory that holds a fleet's CA key, signing keyring and builds on the controller,
    mode V(0700) unless O(mode) says otherwise, and keeps its attributes.
  - Warns when the directory is inside a git work tree and git does not ignore it, since one
    C(git add) would then commit the CA key and the signing keyring. Nothing is refused; the warning
    names the work tree and the fix.
  - The C(aci.registry.site) playbook runs it once per play, on the controller.
author:
  - aci.registry maintainers (!UNKNOWN)
options:
  path:
    description: The state directory. Missing parents are created too.
    type: path
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Keep the state directory outside the inventory's git repository
  aci.registry.aci_state_dir:
    path: "{{ lookup('ansible.builtin.env', 'HOME') }}/.local/state/aci-registry/registry.example.com"
  delegate_to: localhost
  run_once: true
  become: false
"""

RETURN = r"""
path:
  description: The state directory.
  returned: always
  type: str
  sample: /home/ops/.local/state/aci-registry/registry.example.com
git_work_tree:
  description: The top of the git work tree the directory is in, or V(null).
  returned: always
  type: str
  sample: /home/ops/fleet-inventory
git_ignored:
  description: Whether git ignores the directory (V(null) outside a work tree).
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, statedir


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type='path', required=True)),
                           add_file_common_args=True, supports_check_mode=True)
    converge.run(module, statedir.StateDir(module))


if __name__ == '__main__':
    main()
