# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Short-lived GNUPGHOMEs for the unit tests, prepared as gpg_key prepares one, and their gpg-agents stopped."""

import os
import subprocess

from ansible_collections.aci.registry.plugins.module_utils import gpg as g

# gpg-agent calibrates its passphrase KDF to the host (here: a second per unlock); test homes use
# the minimum count: same code paths, faster tests.
FAST_AGENT = 's2k-count 65536\n'


def kill_agent(home):
    subprocess.run(['gpgconf', '--homedir', home, '--kill', 'gpg-agent'],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def fast_agent(home):
    """Give the prepared ``home`` the fast KDF."""
    with open(os.path.join(home, 'gpg-agent.conf'), 'a') as f:
        f.write(FAST_AGENT)


def new_home(root, name):
    """``root/name`` prepared as gpg_key prepares a GNUPGHOME (keep ``root`` short: agent sockets live there)."""
    home = os.path.join(root, name)
    g.prepare_home(home)
    fast_agent(home)
    return home
