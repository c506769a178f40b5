#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: python_bootstrap
short_description: Give a host without Python (Flatcar, Fedora CoreOS) one, from an archive on the controller
version_added: 0.2.0
description:
  - An action that runs on the controller and needs only C(sh), C(tar) and coreutils on the host,
    over any connection that can run commands and send files (SSH, C(containers.podman.podman)).
    It runs in a play with O(ignore:gather_facts=false), before any module.
  - "One probe on the host, every run: the first of O(candidates) that is Python 3.8 or later and
    imports every module of O(imports) is used as it is, and nothing else happens (on a Debian host
    with C(python3-cryptography): one Python start)."
  - Otherwise the copy installed from O(archive) at O(target) is used when it came from the same
    archive (its sha256 is recorded in the copy) and still runs. Else the archive is checked on the
    controller (a tar with a single C(python/) directory, C(python/bin/python3) and the marker
    C(python/aci-registry-python.json) whose C(arch) matches the host's C(uname -m)), sent to the
    host's temporary directory, unpacked beside O(target), run once with O(archive_imports), and only
    then made live by replacing the O(target) symlink with one rename; older copies are removed.
    A failed run leaves the previous copy live and nothing new behind.
  - The module returns the interpreter to use; it does not set it. Give it to
    C(ansible.builtin.set_fact) as C(ansible_python_interpreter), as the C(aci.registry.bootstrap)
    role does.
  - Commands run with the task's C(become); installing needs root.
author:
  - aci.registry maintainers (!UNKNOWN)
options:
  archive:
    description:
      - The Python archive on the controller, found as C(ansible.builtin.copy) finds its C(src).
        Read only when the host has no usable Python.
      - Empty, a host without a usable Python fails with a message saying how to make one, unless
        a copy is already installed at O(target), or a candidate Python lacks only some O(imports)
        (then that one is used, with a warning).
    type: str
    default: ""
  target:
    description: Where the Python is installed on the host; the interpreter is C(<target>/bin/python3).
    type: str
    default: /opt/aci-registry/python
  candidates:
    description: Host Pythons to use when they are good enough, first match wins.
    type: list
    elements: str
    default: [/usr/bin/python3]
  imports:
    description: Modules a candidate must import to be used as it is.
    type: list
    elements: str
    default: [cryptography]
  archive_imports:
    description: Modules the installed Python must import; checked before it is made live and by every probe.
    type: list
    elements: str
    default: [cryptography, gnupg]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  action:
    support: full
    description: Runs on the controller; it sends files and shell commands, no module.
  async:
    support: none
    description: Runs in the foreground only.
  bypass_host_loop:
    support: none
    description: Runs once per host.
  check_mode:
    support: full
    details: The probe runs and the archive is checked; nothing is sent or installed, and C(changed) says whether a real run would install.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The archive's layout and how to make one are in the C(aci.registry.bootstrap) role's README.
"""

EXAMPLES = r"""
- name: Flatcar hosts get a Python from the controller
  hosts: flatcar
  gather_facts: false
  become: true
  tasks:
    - name: Make sure the host has a usable Python
      aci.registry.python_bootstrap:
        archive: /srv/ansible/aci-registry-python-x86_64.tar.gz
      register: python

    - name: Use it for the rest of the play
      ansible.builtin.set_fact:
        ansible_python_interpreter: "{{ python.python }}"

    - name: Facts, through that Python
      ansible.builtin.setup:
"""

RETURN = r"""
python:
  description: The interpreter to use on the host.
  returned: success
  type: str
  sample: /opt/aci-registry/python/bin/python3
source:
  description:
    - Where it comes from. V(system) a candidate with every import, V(installed) the copy at O(target)
      (already up to date), V(install) the copy this run installed (or would, in check mode),
      V(partial) a candidate that lacks some O(imports).
  returned: success
  type: str
  sample: install
arch:
  description: The host's C(uname -m).
  returned: success
  type: str
  sample: x86_64
target:
  description: O(target), normalized.
  returned: success
  type: str
  sample: /opt/aci-registry/python
archive_sha256:
  description: The sha256 of O(archive), when it was read.
  returned: when the archive was read
  type: str
archive_manifest:
  description: The archive's marker, C(python/aci-registry-python.json).
  returned: when the archive was read
  type: dict
  sample: {"format": 1, "arch": "x86_64", "python": "3.11.2", "glibc": "2.36"}
installed:
  description: The directory of the new copy that O(target) now links to.
  returned: when a copy was installed
  type: str
  sample: /opt/aci-registry/python.0f3c9a1e2b7d4c55
host_output:
  description: What the host printed when installing failed (tar's or the new Python's errors).
  returned: failure
  type: str
"""
