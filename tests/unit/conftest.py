"""Unit-test harness: imports the collection by its FQCN path and runs modules in-process."""

import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
COLLECTIONS = os.path.join(ROOT, '.build', 'collections')
_LINK = os.path.join(COLLECTIONS, 'ansible_collections', 'aci', 'registry')
if not os.path.exists(_LINK):
    os.makedirs(os.path.dirname(_LINK), exist_ok=True)
    os.symlink(ROOT, _LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

from ansible.module_utils import basic  # noqa: E402

try:
    from ansible.module_utils.testing import patch_module_args  # noqa: E402
except ImportError:
    # ansible-core before 2.19 has no testing helper. Its modules read their arguments from
    # basic._ANSIBLE_ARGS, which is all the helper sets; the stand-in is registered under the
    # helper's name so that test files import it the same way on every ansible-core.
    import contextlib
    import json
    import types

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8')
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

    sys.modules['ansible.module_utils.testing'] = types.SimpleNamespace(patch_module_args=patch_module_args)


class ModuleExit(Exception):
    """Raised instead of sys.exit so a test gets the module's result."""

    def __init__(self, result, failed):
        super().__init__(result.get('msg', ''))
        self.result = result
        self.failed = failed


def _exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise ModuleExit(kwargs, failed=False)


def _fail_json(self, msg, **kwargs):
    kwargs['msg'] = msg
    kwargs['failed'] = True
    raise ModuleExit(kwargs, failed=True)


@pytest.fixture
def warnings(monkeypatch):
    """The messages a module passes to ``warn`` (run_module replaces exit_json, which would report them)."""
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, message: seen.append(message))
    return seen


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(main, {args}, check_mode=False)`` returns the result dict of one module run.

    A failure comes back as a dict with ``failed: True``; use ``expect_failure=True`` to insist.
    """
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)

    def run(main, args, check_mode=False, diff=False, expect_failure=None):
        args = dict(args)
        args['_ansible_check_mode'] = check_mode
        args['_ansible_diff'] = diff
        args.setdefault('_ansible_remote_tmp', '/tmp')
        args.setdefault('_ansible_keep_remote_files', False)
        with patch_module_args(args), pytest.raises(ModuleExit) as exited:
            main()
        result = exited.value.result
        if expect_failure is True:
            assert result.get('failed'), 'expected a failure, got %r' % (result,)
        elif expect_failure is False:
            assert not result.get('failed'), result.get('msg')
        return result

    return run
