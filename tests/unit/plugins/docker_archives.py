# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker/OCI archive builders of module_utils/test_docker_image.py, for the other tests that
need such archives (test files are no package, so the module is loaded by path, once)."""

import importlib.util
import os


def _load():
    path = os.path.join(os.path.dirname(__file__), 'module_utils', 'test_docker_image.py')
    spec = importlib.util.spec_from_file_location('docker_archives_builders', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


archives = _load()
