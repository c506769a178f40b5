# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lock on the controller's state directory that lasts a whole ``ansible-playbook`` run.

A module is a process of a second or so, so an ``flock`` it takes ends with it. The lock is
therefore a file, ``<state dir>/.lock``, naming the run that holds it: the process ID of its
``ansible-playbook``, that process's start time (``/proc/<pid>/stat`` field 22, so that a reused
process ID is not mistaken for the holder), the boot it started in, its command line and host.
A holder that died (SIGKILL, a crash, a lost terminal) leaves the file behind; the next run sees
that the process is gone and takes the lock over, with a warning naming the dead run.

Reading and replacing ``.lock`` happen under an ``flock`` of ``<state dir>/.lock.guard``, held for
milliseconds, so that two runs arriving together cannot both see "free" and both write.
The guard file is never removed: removing it would let one run lock the old inode and another
a new one.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import socket
import tempfile
import time

LOCK_NAME = '.lock'
GUARD_NAME = '.lock.guard'
POLL_INTERVAL = 0.5
# The guard is held for one read and one rename; longer means a stopped or stuck process.
GUARD_TIMEOUT = 10.0
_COMMAND_MAX = 300
# Options whose value may be a secret (-e ca_pass=...): the command line goes into a file and
# into other runs' messages, so these values are left out.
_SECRET_OPTIONS = ('-e', '--extra-vars')


class LockError(Exception):
    """The lock cannot be taken or read; the message names the holder or the file, and the fix.

    ``record`` is the holder's record when another run holds the lock.
    """

    def __init__(self, msg, record=None):
        super().__init__(msg)
        self.record = record


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def boot_id():
    try:
        return _read('/proc/sys/kernel/random/boot_id').decode('ascii').strip()
    except OSError:
        return None


def pid_namespace():
    """The PID namespace of this process (``pid:[4026531836]``): process IDs mean something only inside it."""
    try:
        return os.readlink('/proc/self/ns/pid')
    except OSError:
        return None


def _boot_time():
    try:
        for line in _read('/proc/stat').decode('ascii').splitlines():
            if line.startswith('btime '):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def process(pid):
    """``{'pid', 'ppid', 'state', 'start_time', 'argv'}`` of a live process, or ``None`` when there is none."""
    try:
        stat = _read('/proc/%d/stat' % pid).decode('utf-8', 'replace')
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The name (field 2) is in parentheses and may hold spaces and parentheses itself.
    fields = stat[stat.rindex(')') + 2:].split()
    try:
        argv = [a.decode('utf-8', 'replace') for a in _read('/proc/%d/cmdline' % pid).split(b'\0') if a]
    except OSError:
        argv = []
    return dict(pid=pid, state=fields[0], ppid=int(fields[1]), start_time=int(fields[19]), argv=argv)


def _is_playbook(argv):
    # argv[0] for an executable script, argv[1] when it runs as `python .../ansible-playbook`.
    return any(os.path.basename(a) == 'ansible-playbook' for a in argv[:2])


def find_owner(pid=None):
    """The process a lock taken from here belongs to, and how it was chosen.

    Walking up the parents, the first ``ansible-playbook`` met is usually one of its own forked
    workers (a process per task), so the owner is the outermost of the unbroken chain of
    ``ansible-playbook`` processes from there: the run itself. A playbook started by a task of
    another playbook has a shell in between and is a run of its own. Without any (a test calling
    the module directly, ``ansible`` ad hoc), the owner is the parent process.
    """
    pid = os.getpid() if pid is None else pid
    owner = None
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        info = process(pid)
        if info is None:
            break
        if _is_playbook(info['argv']):
            owner = info
        elif owner is not None:
            break
        pid = info['ppid']
    if owner is not None:
        return owner, 'ansible-playbook'
    parent = process(os.getppid())
    if parent is None:
        raise LockError('cannot read /proc/%d/stat, the process to own the lock: is /proc mounted?' % os.getppid())
    return parent, 'parent process'


def command_line(argv):
    """The command line for a person to recognise, without the values of ``-e``."""
    words = []
    hide = False
    for arg in argv:
        if hide:
            words.append('<hidden>')
            hide = False
        elif arg in _SECRET_OPTIONS:
            words.append(arg)
            hide = True
        elif arg.startswith('--extra-vars=') or (arg.startswith('-e') and len(arg) > 2 and not arg.startswith('--')):
            words.append(arg[:arg.index('=') + 1] + '<hidden>' if arg.startswith('--') else '-e<hidden>')
        else:
            words.append(arg)
    text = ' '.join(words)
    return text if len(text) <= _COMMAND_MAX else text[:_COMMAND_MAX - 3] + '...'


def _iso(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def record_for(info):
    """The ``.lock`` content naming ``info``'s process as the holder."""
    btime = _boot_time()
    started = None
    if btime is not None:
        started = _iso(btime + info['start_time'] / float(os.sysconf('SC_CLK_TCK')))
    return dict(pid=info['pid'], start_time=info['start_time'], started=started, boot_id=boot_id(),
                pid_ns=pid_namespace(), command=command_line(info['argv']), host=socket.gethostname(),
                taken_at=_iso(time.time()))


def holder_state(record, me):
    """``('ours'|'live'|'stale', why)`` for a parsed ``.lock`` record, seen from the owner ``me``."""
    if record.get('host') != socket.gethostname():
        # Another machine's process table cannot be read from here: never presumed dead.
        return 'live', 'on another host, %s: whether it still runs cannot be checked from here' % record.get('host')
    if record.get('boot_id') and boot_id() and record['boot_id'] != boot_id():
        return 'stale', 'this host has rebooted since'
    if record.get('pid_ns') and pid_namespace() and record['pid_ns'] != pid_namespace():
        # A container beside this one (an AWX job) with the same host name: its pid is not ours to look up.
        return 'live', 'in another PID namespace (a container?): whether it still runs cannot be checked from here'
    if record['pid'] == me['pid'] and record['start_time'] == me['start_time']:
        return 'ours', 'this run'
    info = process(record['pid'])
    if info is None:
        return 'stale', 'process %d is gone' % record['pid']
    if info['start_time'] != record['start_time']:
        return 'stale', 'process %d is gone; its ID now belongs to another process' % record['pid']
    if info['state'] in ('Z', 'X'):
        return 'stale', 'process %d has exited' % record['pid']
    return 'live', 'running'


def parse(data):
    """The record in ``.lock``'s bytes, or ``None`` when they are not one (damaged, hand-written)."""
    try:
        record = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        return None
    if (not isinstance(record, dict) or not isinstance(record.get('pid'), int)
            or not isinstance(record.get('start_time'), int) or isinstance(record['pid'], bool)
            or not isinstance(record.get('host'), str)):
        return None
    return record


def describe(record):
    """The holder, as a message names it."""
    return 'pid %s (%s) on %s, holding it since %s (process started %s)' % (
        record.get('pid'), record.get('command') or 'command unknown', record.get('host') or 'an unknown host',
        record.get('taken_at') or 'an unknown time', record.get('started') or 'at an unknown time')


class StateLock:
    """The lock of one state directory, as seen by one module run.

    ``look`` returns with the guard held (outside check mode), so that what it saw is still true
    when ``take`` or ``release`` acts on it; ``close`` lets the guard go.
    """

    def __init__(self, directory, check_mode=False, owner=None, sleep=time.sleep, clock=time.monotonic):
        self.directory = directory
        self.path = os.path.join(directory, LOCK_NAME)
        self.guard_path = os.path.join(directory, GUARD_NAME)
        self.check_mode = check_mode
        self.owner, self.owner_kind = owner if owner is not None else find_owner()
        self._sleep = sleep
        self._clock = clock
        self._guard = None
        self.waited = 0.0

    # The guard

    def _lock_guard(self):
        if self.check_mode:
            # A dry run writes nothing, not even the guard. Reading without it is safe: .lock is
            # only ever replaced by a rename, so a reader sees the old file or the new one.
            if not os.path.exists(self.guard_path):
                return
            flags = os.O_RDONLY
        else:
            flags = os.O_RDWR | os.O_CREAT
        fd = os.open(self.guard_path, flags | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0), 0o600)
        deadline = self._clock() + GUARD_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._guard = fd
                return
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
            if self._clock() >= deadline:
                os.close(fd)
                raise LockError('%s has been locked for over %s seconds: a process holding it is stuck or stopped '
                                '(`fuser -v %s` names it); end it and run again'
                                % (self.guard_path, GUARD_TIMEOUT, self.guard_path))
            time.sleep(0.02)

    def close(self):
        if self._guard is not None:
            os.close(self._guard)  # closing the last descriptor drops the flock
            self._guard = None

    # Reading

    def _read_record(self):
        """``(record, raw)``: ``(None, None)`` without a file, ``(None, bytes)`` for a file that is no record."""
        try:
            raw = _read(self.path)
        except FileNotFoundError:
            return None, None
        except OSError as e:
            raise LockError('cannot read the lock file %s: %s; fix its permissions (it should belong to the user '
                            'running Ansible) or remove it if no run is using this state directory'
                            % (self.path, e.strerror))
        return parse(raw), raw

    def _observe(self):
        record, raw = self._read_record()
        if record is None and raw is None:
            return dict(state='free', record=None, why='no lock file')
        if record is None:
            # Runs write .lock whole with a rename, so a damaged file is none of theirs.
            return dict(state='stale', record=None,
                        why='%s is not a lock record (%r)' % (self.path, raw[:60]))
        state, why = holder_state(record, self.owner)
        return dict(state=state, record=record, why=why)

    def look(self, wait_timeout=None):
        """What holds the lock now: ``{'state': 'free'|'ours'|'stale'|'live', 'record', 'why'}``.

        With ``wait_timeout`` (seconds), waits while another live run holds the lock and raises
        ``LockError`` naming it when the time is up; 0 looks once.
        """
        if not os.path.isdir(self.directory):
            return dict(state='free', record=None, why='no state directory yet')
        start = self._clock()
        try:
            while True:
                self._lock_guard()
                seen = self._observe()
                self.waited = round(self._clock() - start, 1)
                if seen['state'] != 'live' or wait_timeout is None:
                    return seen
                self.close()
                left = wait_timeout - (self._clock() - start)
                if left <= 0:
                    raise LockError(
                        'state directory %s is locked by another run: %s%s; waited %s s (lock_timeout=%s). '
                        'Wait for that run to end and run again, or raise lock_timeout; if you are sure that '
                        'run is gone, remove %s.'
                        % (self.directory, describe(seen['record']),
                           '' if seen['why'] == 'running' else ', ' + seen['why'], self.waited, wait_timeout,
                           self.path), record=seen['record'])
                self._sleep(min(POLL_INTERVAL, left))
        except BaseException:
            self.close()
            raise

    # Writing (the caller has looked, and still holds the guard)

    def record(self):
        return record_for(self.owner)

    def take(self):
        """Replace ``.lock`` with a record naming this run; returns the record."""
        record = self.record()
        if self.check_mode:
            return record
        fd, tmp = tempfile.mkstemp(prefix=LOCK_NAME + '.', suffix='.tmp', dir=self.directory)
        try:
            with os.fdopen(fd, 'w') as f:
                json.dump(record, f, sort_keys=True)
                f.write('\n')
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return record

    def remove(self):
        if not self.check_mode:
            os.unlink(self.path)
