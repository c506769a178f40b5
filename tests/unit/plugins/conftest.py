# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the plugin unit tests: appc's reference validator."""

import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
ACTOOL = os.environ.get('ACTOOL', os.path.join(ROOT, '.build', 'bin', 'actool'))


@pytest.fixture(scope='session')
def actool():
    """Path of ``actool`` (appc/spec 0.8.11); fails, never skips, when it is missing."""
    if not os.access(ACTOOL, os.X_OK):
        pytest.fail('appc reference validator not found at %s: run `make actool` '
                    '(or set ACTOOL to its path)' % ACTOOL)
    return ACTOOL


@pytest.fixture
def actool_validate(actool):
    """``actool_validate(path)`` asserts that ``actool validate`` accepts the image without a word."""

    def validate(path):
        proc = subprocess.run([actool, 'validate', str(path)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and not proc.stderr.strip(), \
            'actool validate %s failed (rc=%d): %s' % (path, proc.returncode, proc.stderr)

    return validate
