"""converge.run: what changed, check mode, diff mode and failures mean, for every module alike."""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, files


class Note(converge.Resource):
    """The CONTRIBUTING.md example: a text file with the given line."""

    errors = (UnicodeDecodeError,)

    def current(self):
        data = files.read_bytes(self.params['path'])
        return None if data is None else data.decode('utf-8')

    def desired(self, current):
        if self.params['text'] == 'refuse':
            raise converge.ModuleError('text must not be refuse: pick another word', path=self.params['path'])
        return self.params['text'] + '\n'

    def differences(self, current, desired):
        if current is None:
            return ['missing']
        return [] if current == desired else ['text']

    def apply(self, current, desired, reasons):
        files.write_file(self.module, self.params['path'], content=desired.encode('utf-8'), default_mode=0o644)
        return dict(written=True)

    def settle(self, changed):
        if not os.path.exists(self.params['path']):
            return changed
        return files.apply_file_attributes(self.module, self.params['path'], changed, default_mode=0o644)

    def result(self, current, desired, reasons):
        self.warnings.append('noted')
        return dict(path=self.params['path'], reasons=reasons)


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type='path', required=True), text=dict(type='str')),
                           add_file_common_args=True, supports_check_mode=True)
    converge.run(module, Note(module))


def test_check_then_apply_then_nothing(tmp_path, run_module, warnings):
    path = str(tmp_path / 'note')
    check = run_module(main, dict(path=path, text='hello'), check_mode=True)
    assert check['changed'] and check['reasons'] == ['missing'] and not os.path.exists(path)
    first = run_module(main, dict(path=path, text='hello'))
    assert first['changed'] and first['written'] is True
    assert open(path).read() == 'hello\n'
    again = run_module(main, dict(path=path, text='hello'))
    assert again['changed'] is False and again['reasons'] == [] and 'written' not in again
    assert 'noted' in warnings


def test_diff_comes_from_the_same_answers(tmp_path, run_module):
    path = tmp_path / 'note'
    path.write_text('old\n')
    result = run_module(main, dict(path=str(path), text='new'), check_mode=True, diff=True)
    assert result['diff'] == dict(before='old\n', after='new\n')
    assert path.read_text() == 'old\n'


def test_attributes_alone_change(tmp_path, run_module):
    path = tmp_path / 'note'
    path.write_text('same\n')
    path.chmod(0o600)
    assert run_module(main, dict(path=str(path), text='same'), check_mode=True)['changed'] is True
    assert oct(path.stat().st_mode & 0o777) == '0o600'
    assert run_module(main, dict(path=str(path), text='same'))['changed'] is True
    assert oct(path.stat().st_mode & 0o777) == '0o644'


def test_failures_carry_message_and_details(tmp_path, run_module):
    path = tmp_path / 'note'
    refused = run_module(main, dict(path=str(path), text='refuse'), expect_failure=True)
    assert refused['msg'] == 'text must not be refuse: pick another word' and refused['path'] == str(path)
    path.write_bytes(b'\xff\n')
    bad = run_module(main, dict(path=str(path), text='x'), expect_failure=True)
    assert 'utf-8' in bad['msg']


class Warned(Note):
    def desired(self, current):
        self.warnings.append('about to refuse')
        raise converge.ModuleError('refused')


def warned_main():
    module = AnsibleModule(argument_spec=dict(path=dict(type='path', required=True), text=dict(type='str')),
                           add_file_common_args=True, supports_check_mode=True)
    converge.run(module, Warned(module))


def test_warnings_come_with_a_failure_too(tmp_path, run_module, warnings):
    run_module(warned_main, dict(path=str(tmp_path / 'n'), text='x'), expect_failure=True)
    assert warnings == ['about to refuse']


class Archive(Note):
    """A resource that holds something open from desired() on, and has no diff mode."""

    opened = []

    def desired(self, current):
        Archive.opened.append('open')
        return super().desired(current)

    def diff(self, current, desired):
        return None

    def close(self):
        Archive.opened.append('closed')


def archive_main():
    module = AnsibleModule(argument_spec=dict(path=dict(type='path', required=True), text=dict(type='str')),
                           add_file_common_args=True, supports_check_mode=True)
    converge.run(module, Archive(module))


def test_close_runs_once_on_success_and_on_failure(tmp_path, run_module):
    del Archive.opened[:]
    path = str(tmp_path / 'note')
    run_module(archive_main, dict(path=path, text='hello'), expect_failure=False)
    assert Archive.opened == ['open', 'closed']
    run_module(archive_main, dict(path=path, text='refuse'), expect_failure=True)
    assert Archive.opened == ['open', 'closed', 'open', 'closed']


def test_no_diff_mode_means_no_diff(tmp_path, run_module):
    result = run_module(archive_main, dict(path=str(tmp_path / 'note'), text='hello'), diff=True)
    assert result['changed'] and 'diff' not in result


def test_an_error_of_the_host_is_a_message_not_a_traceback(tmp_path, run_module, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, 'No space left on device', str(tmp_path / 'note'))
    monkeypatch.setattr(files, 'write_file', full)
    result = run_module(main, dict(path=str(tmp_path / 'note'), text='x'), expect_failure=True)
    assert result['msg'] == '%s: No space left on device' % (tmp_path / 'note')
