"""aci_state_dir on real directories and a real git work tree; its lock against real processes.

Live holders are spawned (``sleep``), dead ones killed and reaped. Run in-process, the module finds
no ansible-playbook above it, so the lock's owner is pytest's parent process: the same for every
test of a session, as one playbook run is for its plays.
"""

import fcntl
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from ansible_collections.aci.registry.plugins.module_utils import statelock

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


# The lock

@pytest.fixture
def state(tmp_path):
    path = tmp_path / 'state'
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def sleeper():
    """A live process that is not this run: ``sleep 60``, ended and reaped after the test."""
    procs = []

    def spawn():
        proc = subprocess.Popen(['sleep', '60'])
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        proc.kill()
        proc.wait()


def write_lock(state, pid, start_time=None, **fields):
    if start_time is None:
        start_time = statelock.process(pid)['start_time']
    record = dict(pid=pid, start_time=start_time, started='2026-12-02T10:00:00Z', boot_id=statelock.boot_id(),
                  command='ansible-playbook -i inventory/ other.yml', host=socket.gethostname(),
                  taken_at='2026-12-02T10:00:01Z')
    record.update(fields)
    (state / '.lock').write_text(json.dumps(record))
    return record


def lock_record(state):
    return json.loads((state / '.lock').read_text())


def assert_guard_free(state):
    fd = os.open(str(state / '.lock.guard'), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if a run left it locked
    finally:
        os.close(fd)


def held(state, **args):
    return dict(dict(path=str(state), lock='held'), **args)


def released(state):
    return dict(path=str(state), lock='released')


def test_take_retake_release(state, run_module, warnings):
    taken = run_module(aci_state_dir.main, held(state), expect_failure=False)
    # The lock is bookkeeping: a playbook's rerun stays changed=0.
    assert taken['changed'] is False
    record = lock_record(state)
    me = statelock.process(os.getppid())
    assert record['pid'] == me['pid'] and record['start_time'] == me['start_time']
    assert record['host'] == socket.gethostname() and record['taken_at'] and record['started']
    assert record['pid_ns'] == os.readlink('/proc/self/ns/pid') and record['boot_id'] == statelock.boot_id()
    assert taken['lock']['pid'] == me['pid'] and taken['lock']['held'] is True
    assert taken['lock']['owner'] == 'parent process' and taken['lock']['waited'] == 0
    assert oct((state / '.lock').stat().st_mode & 0o777) == '0o600'
    assert_guard_free(state)
    # A later play of the same run.
    again = run_module(aci_state_dir.main, held(state), expect_failure=False)
    assert again['changed'] is False and lock_record(state) == record
    assert again['lock']['taken_at'] == record['taken_at']
    gone = run_module(aci_state_dir.main, released(state), expect_failure=False)
    assert gone['changed'] is False and not (state / '.lock').exists() and gone['lock']['held'] is False
    assert run_module(aci_state_dir.main, released(state))['changed'] is False
    assert_guard_free(state)
    assert warnings == []
    assert sorted(p.name for p in state.iterdir()) == ['.lock.guard'], 'no temporary file left'


def test_a_missing_directory_is_made_and_locked(tmp_path, run_module):
    path = tmp_path / 'new' / 'state'
    result = run_module(aci_state_dir.main, held(path), expect_failure=False)
    assert result['changed'] and lock_record(path)['pid'] == os.getppid()
    assert oct(path.stat().st_mode & 0o777) == '0o700'


def test_ignored_reads_and_writes_nothing(state, run_module, sleeper):
    write_lock(state, sleeper().pid)
    before = (state / '.lock').read_text()
    result = run_module(aci_state_dir.main, dict(path=str(state)), expect_failure=False)
    assert 'lock' not in result and (state / '.lock').read_text() == before
    assert not (state / '.lock.guard').exists()


def test_a_dead_holder_is_taken_over_with_a_warning(state, run_module, warnings):
    dead = subprocess.Popen(['sleep', '60'])
    write_lock(state, dead.pid)
    dead.kill()
    dead.wait()
    result = run_module(aci_state_dir.main, held(state, lock_timeout=0), expect_failure=False)
    assert result['changed'] is False and result['lock']['held'] and lock_record(state)['pid'] == os.getppid()
    assert len(warnings) == 1
    assert 'took over the stale lock' in warnings[0] and 'pid %d' % dead.pid in warnings[0]
    assert 'is gone' in warnings[0] and 'other.yml' in warnings[0]


def test_a_killed_unreaped_holder_is_stale(state, run_module, warnings):
    zombie = subprocess.Popen(['sleep', '60'])
    write_lock(state, zombie.pid)
    zombie.kill()
    deadline = time.monotonic() + 5
    while statelock.process(zombie.pid)['state'] != 'Z' and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        result = run_module(aci_state_dir.main, held(state, lock_timeout=0), expect_failure=False)
        assert result['changed'] is False and 'has exited' in warnings[0]
    finally:
        zombie.wait()


def test_a_reused_pid_is_not_the_holder(state, run_module, warnings, sleeper):
    other = sleeper()
    real = statelock.process(other.pid)['start_time']
    write_lock(state, other.pid, start_time=real - 1000)
    result = run_module(aci_state_dir.main, held(state, lock_timeout=0), expect_failure=False)
    assert result['changed'] is False and result['lock']['held'] and lock_record(state)['pid'] == os.getppid()
    assert 'now belongs to another process' in warnings[0]


def test_another_boot_is_stale(state, run_module, warnings, sleeper):
    write_lock(state, sleeper().pid, boot_id='00000000-0000-0000-0000-000000000000')
    run_module(aci_state_dir.main, held(state, lock_timeout=0), expect_failure=False)
    assert 'rebooted' in warnings[0]


@pytest.mark.parametrize('timeout', [0, 1])
def test_a_live_holder_makes_it_fail_naming_it_and_the_fix(state, run_module, sleeper, timeout):
    other = sleeper()
    record = write_lock(state, other.pid)
    start = time.monotonic()
    result = run_module(aci_state_dir.main, held(state, lock_timeout=timeout), expect_failure=True)
    took = time.monotonic() - start
    msg = result['msg']
    assert 'pid %d' % other.pid in msg and 'other.yml' in msg and socket.gethostname() in msg
    assert record['taken_at'] in msg and 'lock_timeout=%d' % timeout in msg
    assert 'remove %s/.lock' % state in msg and 'Wait for that run' in msg
    assert timeout <= took < timeout + 1.5, took
    assert result['lock']['pid'] == other.pid and result['lock']['owner'] == 'another run'
    assert result['lock']['waited'] == pytest.approx(timeout, abs=0.2)
    assert lock_record(state) == record
    assert_guard_free(state)


def test_waits_for_a_holder_that_ends(state, run_module, warnings, sleeper):
    other = sleeper()
    write_lock(state, other.pid)

    def end_it():
        time.sleep(1.2)
        other.kill()
        other.wait()

    threading.Thread(target=end_it).start()
    result = run_module(aci_state_dir.main, held(state, lock_timeout=10), expect_failure=False)
    assert result['changed'] is False and result['lock']['held'] and lock_record(state)['pid'] == os.getppid()
    assert 1.0 <= result['lock']['waited'] < 3, result['lock']
    assert 'pid %d' % other.pid in warnings[0]


def test_another_hosts_lock_is_never_presumed_dead(state, run_module, sleeper):
    write_lock(state, 999999, start_time=1, host='ci-runner-7')
    result = run_module(aci_state_dir.main, held(state, lock_timeout=0), expect_failure=True)
    assert 'on ci-runner-7' in result['msg'] and lock_record(state)['host'] == 'ci-runner-7'


def test_another_pid_namespaces_lock_is_never_presumed_dead(state, run_module):
    write_lock(state, 999999, start_time=1, pid_ns='pid:[1]')
    result = run_module(aci_state_dir.main, held(state, lock_timeout=0), expect_failure=True)
    assert 'in another PID namespace' in result['msg'] and lock_record(state)['pid'] == 999999


def test_released_by_another_run_warns_and_keeps(state, run_module, warnings, sleeper):
    other = sleeper()
    record = write_lock(state, other.pid)
    result = run_module(aci_state_dir.main, released(state), expect_failure=False)
    assert result['changed'] is False and lock_record(state) == record
    assert result['lock']['pid'] == other.pid and result['lock']['owner'] == 'another run'
    assert len(warnings) == 1 and 'left %s/.lock in place' % state in warnings[0]
    assert 'pid %d' % other.pid in warnings[0]


def test_check_mode_writes_nothing(state, tmp_path, run_module):
    result = run_module(aci_state_dir.main, held(state), check_mode=True, diff=True, expect_failure=False)
    assert result['changed'] is False and result['lock']['pid'] == os.getppid()
    assert result['diff']['before']['lock'] == 'free' and result['diff']['after']['lock'].startswith('held by this')
    assert list(state.iterdir()) == []
    missing = tmp_path / 'missing'
    assert run_module(aci_state_dir.main, held(missing), check_mode=True)['changed'] and not missing.exists()
    # Held for real, then a dry run of the same run: nothing to do, and a dry release writes nothing.
    run_module(aci_state_dir.main, held(state), expect_failure=False)
    record = lock_record(state)
    assert run_module(aci_state_dir.main, held(state), check_mode=True)['changed'] is False
    assert run_module(aci_state_dir.main, released(state), check_mode=True)['changed'] is False
    assert lock_record(state) == record


def test_check_mode_still_fails_beside_a_live_run(state, run_module, sleeper):
    other = sleeper()
    write_lock(state, other.pid)
    result = run_module(aci_state_dir.main, held(state, lock_timeout=0), check_mode=True, expect_failure=True)
    assert 'pid %d' % other.pid in result['msg']
    assert sorted(p.name for p in state.iterdir()) == ['.lock']


@pytest.mark.parametrize('content', [b'', b'garbage\x00\xff', b'{"pid": "12"}', b'[1, 2]'])
def test_a_lock_file_that_is_no_record_is_stale(state, run_module, warnings, content):
    (state / '.lock').write_bytes(content)
    result = run_module(aci_state_dir.main, held(state, lock_timeout=0), expect_failure=False)
    assert result['changed'] is False and result['lock']['held'] and lock_record(state)['pid'] == os.getppid()
    assert 'is not a lock record' in warnings[0]


def test_an_unreadable_lock_file_fails_naming_it(state, run_module):
    (state / '.lock').mkdir()
    result = run_module(aci_state_dir.main, held(state), expect_failure=True)
    assert 'cannot read the lock file %s/.lock' % state in result['msg']
    assert_guard_free(state)


def test_a_negative_timeout_is_refused(state, run_module):
    result = run_module(aci_state_dir.main, held(state, lock_timeout=-1), expect_failure=True)
    assert 'lock_timeout is -1' in result['msg'] and not (state / '.lock').exists()


def test_a_stuck_guard_fails_bounded(state, run_module, monkeypatch):
    monkeypatch.setattr(statelock, 'GUARD_TIMEOUT', 0.3)
    fd = os.open(str(state / '.lock.guard'), os.O_RDWR | os.O_CREAT, 0o600)
    child = subprocess.Popen(['flock', str(state / '.lock.guard'), 'sleep', '30'], pass_fds=())
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                time.sleep(0.02)
            except OSError:
                break
        result = run_module(aci_state_dir.main, held(state), expect_failure=True)
        assert '.lock.guard has been locked' in result['msg'] and 'fuser' in result['msg']
    finally:
        child.kill()
        child.wait()
        os.close(fd)
