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
  - With O(lock=held), it also makes sure only one C(ansible-playbook) run at a time works in the
    directory (two operators, a CI job and AWX on the same domain). A second run waits up to
    O(lock_timeout) seconds for the first to release it, then fails naming the run that holds it.
    O(lock=released) in the playbook's last play lets the next run in. Taking and releasing the lock
    are not reported as changes, so a rerun of a playbook that changes nothing says C(changed=0);
    RV(lock) tells what the lock is.
  - The lock is a file, C(<path>/.lock), not an C(flock), because a module is a process of a second
    and its C(flock) would end with it, while the lock has to last the whole playbook. The file names
    its owner, the outermost C(ansible-playbook) process above the module (the run itself, not one of
    its per-task worker processes). It records its process ID, the start time of that process (so a reused process
    ID is not mistaken for it), the boot, its command line (without the values of C(-e)), the host and
    the time the lock was taken. When no C(ansible-playbook) is found above the module (a test calling
    it directly, C(ansible) ad hoc), the owner is the module's parent process, and RV(lock.owner)
    says so.
  - A lock whose owner is gone (killed with SIGKILL, crashed, the host rebooted) never blocks anyone.
    The next run that holds the lock takes it over, with a warning naming the dead run, whose work may
    have stopped half-way. A C(.lock) that is not a lock record (damaged, written by hand) is treated
    the same way, since runs only ever replace it whole with a rename; one that cannot be read
    (permissions) fails, naming the file.
  - A stuck lock, one whose owner still runs but hangs, is never taken over. Wait, or end that
    C(ansible-playbook); if you are sure that run is gone, remove C(<path>/.lock). A lock taken on
    another host (a state directory on a shared file system), or in another PID namespace (a
    container with the same host name), is always presumed alive, since its processes cannot be
    checked from here; remove it by hand once that run is over.
  - C(.lock) is read and replaced under an C(flock) of C(<path>/.lock.guard), held for milliseconds,
    so two runs taking the lock at the same moment cannot both win. That file stays; do not remove it.
author:
  - aci.registry maintainers (!UNKNOWN)
options:
  path:
    description: The state directory. Missing parents are created too.
    type: path
    required: true
  lock:
    description:
      - V(held) takes the directory's lock for the C(ansible-playbook) run this task is part of,
        waiting up to O(lock_timeout) while another live run holds it. Taking it again in a later
        play of the same run changes nothing.
      - V(released) removes the lock if this run holds it; without a lock nothing happens, and
        another run's lock is left in place with a warning (a run never removes someone else's lock).
      - V(ignored) neither reads nor writes the lock, as before this option existed.
    type: str
    choices: [held, released, ignored]
    default: ignored
  lock_timeout:
    description:
      - Seconds O(lock=held) waits for another run to release the lock, looking twice a second,
        before it fails naming that run. V(0) fails at once.
    type: int
    default: 300
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details:
      - A dry run must not run unnoticed beside a real one, which may be changing what it reads. In
        check mode O(lock=held) waits and fails exactly as in a real run, but writes neither C(.lock) nor
        C(.lock.guard).
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

# The first play of a playbook: one run at a time in this state directory.
- name: Take the state directory's lock for this run (wait up to 10 minutes for another)
  aci.registry.aci_state_dir:
    path: "{{ state_dir }}"
    lock: held
    lock_timeout: 600
  delegate_to: localhost
  run_once: true
  become: false

# The last play: let the next run in. A run that fails before it leaves a lock that its
# ansible-playbook process no longer holds once it has exited; the next run takes it over.
- name: Release the state directory's lock
  aci.registry.aci_state_dir:
    path: "{{ state_dir }}"
    lock: released
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
lock:
  description:
    - The lock after the task, when O(lock) is not V(ignored). With O(lock=held), the record naming
      this run (in check mode, the one that would be written); with O(lock=released), the other run
      still holding it, or V(null) fields when the directory is now free.
    - When O(lock=held) fails because another live run holds the lock, that run's record.
  returned: when O(lock) is not V(ignored)
  type: dict
  contains:
    held:
      description: Whether anyone holds the lock after the task.
      type: bool
      sample: true
    owner:
      description:
        - Who the holder is to this task. V(ansible-playbook) for the run's own C(ansible-playbook)
          process, V(parent process) when none was found above the module, V(another run) for a lock
          left in place by O(lock=released); V(null) when free.
      type: str
      sample: ansible-playbook
    pid:
      description: The holder's process ID.
      type: int
      sample: 41873
    started:
      description: When the holder's process started (UTC).
      type: str
      sample: "2026-12-02T18:40:11Z"
    command:
      description: The holder's command line, without the values of C(-e)/C(--extra-vars).
      type: str
      sample: /usr/bin/python3 /usr/bin/ansible-playbook -i inventory/ aci.registry.site
    host:
      description: The host name of the controller the holder runs on.
      type: str
      sample: ops-laptop
    taken_at:
      description: When the holder took the lock (UTC).
      type: str
      sample: "2026-12-02T18:40:14Z"
    waited:
      description: Seconds this task waited for another run to release the lock.
      type: float
      sample: 12.5
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, statedir


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type='path', required=True),
                                              lock=dict(type='str', choices=['held', 'released', 'ignored'],
                                                        default='ignored'),
                                              lock_timeout=dict(type='int', default=300)),
                           add_file_common_args=True, supports_check_mode=True)
    converge.run(module, statedir.StateDir(module))


if __name__ == '__main__':
    main()
