"""The controller-side part of the reliability suite: hostile inputs, hostile upstreams, full disks.

It shares the unit tests' harness (the collection on sys.path, ``run_module``): tests/unit/conftest.py
is loaded under another name and its fixtures re-exported, rather than copied.
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, '..', 'unit')
for _path in (HERE, UNIT):
    if _path not in sys.path:
        sys.path.insert(0, _path)

_spec = importlib.util.spec_from_file_location('aci_unit_conftest', os.path.join(UNIT, 'conftest.py'))
_unit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_unit)

run_module = _unit.run_module
warnings = _unit.warnings

_spec = importlib.util.spec_from_file_location('aci_unit_plugins_conftest', os.path.join(UNIT, 'plugins', 'conftest.py'))
_plugins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_plugins)

quick_key = _plugins.quick_key
