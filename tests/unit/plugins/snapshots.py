# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files as the unit tests look at them: their bytes and modes, to prove that a failure changed nothing."""

import os
import stat


def read(path):
    with open(str(path), 'rb') as f:
        return f.read()


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def snapshot(directory):
    """Every file below ``directory`` with its bytes and mode, to prove an error changed nothing."""
    found = {}
    for root, dirs, names in os.walk(str(directory)):
        for n in names:
            path = os.path.join(root, n)
            found[path] = (read(path), mode_of(path))
    return found
