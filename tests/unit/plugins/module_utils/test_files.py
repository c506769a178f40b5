"""The atomic writer: nothing half-written, attributes applied, backups on request."""

import os
import stat

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.aci.registry.plugins.module_utils import files


def make_module(**params):
    with patch_module_args(dict(params, _ansible_remote_tmp='/tmp', _ansible_keep_remote_files=False)):
        return AnsibleModule(argument_spec=dict(path=dict(type='path')), add_file_common_args=True)


def test_replaces_content_and_applies_default_mode(tmp_path):
    dest = tmp_path / 'key.pem'
    dest.write_bytes(b'old')
    dest.chmod(0o644)
    module = make_module(path=str(dest))
    files.write_file(module, str(dest), content=b'new', default_mode=0o600)
    assert dest.read_bytes() == b'new'
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_user_mode_wins_over_default(tmp_path):
    dest = tmp_path / 'cert.pem'
    module = make_module(path=str(dest), mode='0640')
    files.write_file(module, str(dest), content=b'x', default_mode=0o600)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640


def test_failing_writer_leaves_previous_file_and_no_temp(tmp_path):
    dest = tmp_path / 'image.aci'
    dest.write_bytes(b'previous')
    module = make_module(path=str(dest))

    def writer(f):
        f.write(b'partial')
        raise RuntimeError('disk on fire')

    with pytest.raises(RuntimeError):
        files.write_file(module, str(dest), writer=writer)
    assert dest.read_bytes() == b'previous'
    assert os.listdir(tmp_path) == ['image.aci']


def test_backup_keeps_the_old_bytes(tmp_path):
    dest = tmp_path / 'a.txt'
    dest.write_bytes(b'one')
    module = make_module(path=str(dest))
    backup = files.write_file(module, str(dest), content=b'two', backup=True)
    assert backup and open(backup, 'rb').read() == b'one'
    assert dest.read_bytes() == b'two'


class Failed(Exception):
    pass


def test_missing_directory_is_named(tmp_path, monkeypatch):
    target = str(tmp_path / 'nope' / 'x')
    module = make_module(path=target)

    def fail_json(msg, **kwargs):
        raise Failed(msg)

    monkeypatch.setattr(module, 'fail_json', fail_json)
    with pytest.raises(Failed, match='directory .*nope does not exist'):
        files.write_file(module, target, content=b'')
    assert not (tmp_path / 'nope').exists()


def test_check_mode_accepts_a_directory_an_earlier_task_would_create(tmp_path, monkeypatch):
    target = str(tmp_path / 'new' / 'deeper' / 'x')
    module = make_module(path=target)
    module.check_mode = True
    files.check_writable_dir(module, target)  # no failure
    module.check_mode = False

    def fail_json(msg, **kwargs):
        raise Failed(msg)

    monkeypatch.setattr(module, 'fail_json', fail_json)
    with pytest.raises(Failed, match='does not exist'):
        files.check_writable_dir(module, target)
