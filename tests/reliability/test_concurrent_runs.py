"""Two ansible-playbook runs at once on one state directory, and a run killed while it holds it.

Real ansible-playbook processes (connection local) run playbooks/hold_state_dir.yml: take the lock,
write a start line to work.log, pause, write an end line, release. With the lock, work.log holds
each run's two lines together; without it, they would interleave. Every wait is bounded.
"""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import figures

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / 'tests' / 'reliability' / 'playbooks' / 'hold_state_dir.yml'
RUN_TIMEOUT = 90


class Run:
    """One ansible-playbook process in its own session (so that kill -9 reaches its workers too)."""

    def __init__(self, tmp_path, state, name, hold, timeout):
        self.name = name
        self.log = tmp_path / ('%s.out' % name)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.build' / 'collections'),
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ANSIBLE_NOCOLOR='1', ANSIBLE_HOME=str(tmp_path / 'home'),
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / ('tmp-%s' % name)), ANSIBLE_LOCALHOST_WARNING='false',
                   ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
        argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', str(PLAYBOOK),
                '-e', json.dumps(dict(state_dir=str(state), run_name=name, hold_seconds=hold, lock_timeout=timeout,
                                      ansible_python_interpreter=sys.executable))]
        with open(str(self.log), 'wb') as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, start_new_session=True)
        self.started = time.monotonic()
        self.took = None

    @property
    def pid(self):
        return self.proc.pid

    def wait(self):
        try:
            rc = self.proc.wait(RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError('%s still running after %d s:\n%s' % (self.name, RUN_TIMEOUT, self.output()[-3000:]))
        self.took = time.monotonic() - self.started
        return rc

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(RUN_TIMEOUT)

    def output(self):
        # Warnings and messages may be wrapped to the terminal width: compare with one space.
        return ' '.join(self.log.read_text(errors='replace').split())

    def waited(self):
        found = re.findall(r'"waited": ([0-9.]+)', self.output())
        assert found, self.output()[-3000:]
        return float(found[0])


def holder(state):
    try:
        return json.loads((state / '.lock').read_text())['pid']
    except (OSError, ValueError, KeyError):
        return None


def work_log(state):
    try:
        return [line.split(' ')[:2] for line in (state / 'work.log').read_text().splitlines()]
    except FileNotFoundError:
        return []


def wait_until_working(state, run, seconds=45):
    """Until ``run`` holds the lock and has started its work."""
    deadline = time.monotonic() + seconds
    while holder(state) != run.pid or [run.name, 'start'] not in work_log(state):
        if run.proc.poll() is not None or time.monotonic() > deadline:
            if run.proc.poll() is None:
                run.kill()
            raise AssertionError('%s never took the lock and started:\n%s' % (run.name, run.output()[-3000:]))
        time.sleep(0.1)


def test_a_second_run_fails_naming_the_holder_a_third_waits(tmp_path):
    state = tmp_path / 'state'
    first = Run(tmp_path, state, 'first', hold=6, timeout=30)
    runs = [first]
    try:
        wait_until_working(state, first)
        impatient = Run(tmp_path, state, 'impatient', hold=1, timeout=1)
        patient = Run(tmp_path, state, 'patient', hold=1, timeout=40)
        runs += [impatient, patient]
        assert impatient.wait() != 0
        assert patient.wait() == 0, patient.output()[-3000:]
        assert first.wait() == 0, first.output()[-3000:]
    finally:
        for run in runs:
            if run.proc.poll() is None:
                run.kill()
    said = impatient.output()
    assert 'is locked by another run: pid %d (' % first.pid in said, said[-3000:]
    assert 'lock_timeout=1' in said and 'remove %s/.lock' % state in said
    assert work_log(state) == [['first', 'start'], ['first', 'end'], ['patient', 'start'], ['patient', 'end']]
    assert not (state / '.lock').exists()
    waited = patient.waited()
    assert waited >= 1
    figures.record('concurrency', 'second run while the first holds it (lock_timeout 1): failed naming the holder pid',
                   round(impatient.took, 1), 's')
    figures.record('concurrency', 'third run while the first holds it (lock_timeout 40): waited, then succeeded',
                   waited, 's')
    figures.record('concurrency', 'work.log lines interleaved by the runs', 0, 'lines')


def test_two_runs_started_together_take_turns(tmp_path):
    state = tmp_path / 'state'  # not made yet: both runs race to make it, then for the lock
    # The hold is long beside the skew between two ansible-playbook startups on a busy machine,
    # so the later run still finds the lock taken.
    runs = [Run(tmp_path, state, name, hold=5, timeout=40) for name in ('left', 'right')]
    try:
        rcs = [run.wait() for run in runs]
    finally:
        for run in runs:
            if run.proc.poll() is None:
                run.kill()
    assert rcs == [0, 0], [run.output()[-2000:] for run in runs]
    log = work_log(state)
    assert len(log) == 4 and log[0][0] == log[1][0] and log[2][0] == log[3][0] and log[0][0] != log[2][0], log
    # Which run won and by how much depends on their startup skew; that one waited for the other is
    # what matters (the log above shows they did not overlap).
    waits = sorted(run.waited() for run in runs)
    assert waits[0] < waits[1] and waits[1] > 0, waits
    figures.record('concurrency', 'two runs started together on a new directory: the later one waited', waits[1], 's')


def test_a_run_killed_while_holding_it_does_not_block_the_next(tmp_path):
    state = tmp_path / 'state'
    doomed = Run(tmp_path, state, 'doomed', hold=60, timeout=10)
    try:
        wait_until_working(state, doomed)
    finally:
        doomed.kill()
    assert holder(state) == doomed.pid, 'the killed run leaves its lock behind'
    after = Run(tmp_path, state, 'after', hold=1, timeout=10)
    assert after.wait() == 0, after.output()[-3000:]
    said = after.output()
    assert 'took over the stale lock of state directory %s' % state in said, said[-3000:]
    assert 'pid %d' % doomed.pid in said and 'is gone' in said
    assert after.waited() == 0 and not (state / '.lock').exists()
    assert work_log(state) == [['doomed', 'start'], ['after', 'start'], ['after', 'end']]
    figures.record('concurrency', 'stale lock after kill -9 of its ansible-playbook: taken over with a warning',
                   round(after.took, 1), 's (whole next run)')
