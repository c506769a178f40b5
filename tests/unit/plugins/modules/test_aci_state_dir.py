"""aci_state_dir on real directories and a real git work tree."""

import subprocess

from ansible_collections.aci.registry.plugins.modules import aci_state_dir


def git(*argv, cwd):
    subprocess.run(('git',) + argv, cwd=str(cwd), check=True, capture_output=True)


def test_creates_private_then_nothing(tmp_path, run_module, warnings):
    path = tmp_path / 'a' / 'state'
    check = run_module(aci_state_dir.main, dict(path=str(path)), check_mode=True, diff=True)
    assert check['changed'] and not path.exists()
    assert check['diff']['before']['state'] == 'absent'
    assert run_module(aci_state_dir.main, dict(path=str(path)))['changed']
    assert oct(path.stat().st_mode & 0o777) == '0o700'
    again = run_module(aci_state_dir.main, dict(path=str(path)))
    assert again['changed'] is False and again['git_work_tree'] is None
    assert warnings == []


def test_loose_mode_is_tightened(tmp_path, run_module):
    path = tmp_path / 'state'
    path.mkdir(mode=0o755)
    assert run_module(aci_state_dir.main, dict(path=str(path)))['changed']
    assert oct(path.stat().st_mode & 0o777) == '0o700'


def test_warns_inside_a_work_tree_unless_ignored(tmp_path, run_module, warnings):
    repo = tmp_path / 'inventory'
    repo.mkdir()
    git('init', '-q', cwd=repo)
    path = repo / 'aci-registry-state'
    result = run_module(aci_state_dir.main, dict(path=str(path)), check_mode=True)
    assert result['git_work_tree'] == str(repo) and result['git_ignored'] is False
    assert len(warnings) == 1 and 'must never be committed' in warnings[0] and str(repo) in warnings[0]
    (repo / '.gitignore').write_text('/aci-registry-state/\n')
    del warnings[:]
    result = run_module(aci_state_dir.main, dict(path=str(path)))
    assert result['git_ignored'] is True and warnings == []


def test_a_file_in_the_way_is_refused(tmp_path, run_module):
    path = tmp_path / 'state'
    path.write_text('x')
    result = run_module(aci_state_dir.main, dict(path=str(path)), expect_failure=True)
    assert 'is not a directory' in result['msg'] and path.read_text() == 'x'
