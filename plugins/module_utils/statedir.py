# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's state directory (CA key, signing keyring, builds): kept private, never
silently inside a git work tree, where one `git add .` would publish the CA key, and locked for
one run at a time when asked (statelock.py)."""

from __future__ import annotations

import os

from ansible_collections.aci.registry.plugins.module_utils import converge, files, statelock

DEFAULT_MODE = 0o700


def _existing_ancestor(path):
    while not os.path.isdir(path):
        path = os.path.dirname(path)
    return path


def git_exposure(module, path):
    """``(work tree, ignored)`` for ``path``; ``(None, None)`` outside a work tree or without git."""
    git = module.get_bin_path('git')
    if git is None:
        return None, None
    rc, out, dummy = module.run_command([git, '-C', _existing_ancestor(path), 'rev-parse', '--show-toplevel'])
    if rc != 0:
        return None, None
    top = out.strip()
    # check-ignore matches patterns, so it answers for a directory that is not made yet (dry run).
    rc = module.run_command([git, '-C', top, 'check-ignore', '-q', os.path.relpath(path, top) + '/'])[0]
    return top, rc == 0


def _holder(record, waited):
    if record is None:
        return None
    return dict(pid=record.get('pid'), started=record.get('started'), command=record.get('command'),
                host=record.get('host'), taken_at=record.get('taken_at'), waited=waited)


class StateDir(converge.Resource):
    errors = (OSError, statelock.LockError)

    def __init__(self, module):
        super().__init__(module)
        self.want_lock = self.params.get('lock') or 'ignored'
        self.lock = None
        self.seen = None
        self.taken = None

    def _look(self):
        wait = self.params['lock_timeout'] if self.want_lock == 'held' else None
        self.seen = self.lock.look(wait)
        return self.seen['state']

    def current(self):
        directory = os.path.isdir(self.params['path'])
        if self.want_lock != 'ignored':
            if self.params['lock_timeout'] < 0:
                raise converge.ModuleError('lock_timeout is %d: give the seconds to wait for another run, '
                                           'or 0 to fail at once' % self.params['lock_timeout'],
                                           path=self.params['path'])
            self.lock = statelock.StateLock(self.params['path'], check_mode=self.module.check_mode)
        # Looking first, before anything is written, makes a dry run wait for a real one too.
        return dict(directory=directory, lock=self._look() if self.lock else None)

    def desired(self, current):
        path = self.params['path']
        if os.path.lexists(path) and not current['directory']:
            raise converge.ModuleError('state directory %s exists and is not a directory: move it away or set '
                                       'another path' % path, path=path)
        return dict(directory=True, lock=current['lock'] if self.lock is None else
                    'ours' if self.want_lock == 'held' else 'free')

    def differences(self, current, desired):
        reasons = self.reasons = [] if current['directory'] else ['missing']
        state = current['lock']
        if self.want_lock == 'held' and state != 'ours':
            reasons.append('lock')
            if state == 'stale':
                self.warnings.append(self._stale_warning())
        elif self.want_lock == 'released':
            if state == 'ours':
                reasons.append('unlock')
            elif state in ('live', 'stale'):
                record = self.seen['record']
                whose = statelock.describe(record) + '; ' if record is not None else ''
                self.warnings.append(
                    "lock: released left %s in place: it is not this run's (%s%s). Only its own run removes "
                    "it; a stale one is taken over by the next run that holds the lock."
                    % (self.lock.path, whose, self.seen['why']))
        return reasons

    def _stale_warning(self):
        record = self.seen['record']
        verb = 'would take over' if self.module.check_mode else 'took over'
        if record is None:
            return '%s the lock of state directory %s: %s' % (verb, self.params['path'], self.seen['why'])
        return ("%s the stale lock of state directory %s: %s, so the run that held it is over. It was %s; "
                "check that run's work, which may have stopped half-way."
                % (verb, self.params['path'], self.seen['why'], statelock.describe(record)))

    def apply(self, current, desired, reasons):
        if 'missing' in reasons:
            # Another run may be making it at the same moment.
            os.makedirs(self.params['path'], mode=DEFAULT_MODE, exist_ok=True)
        if 'lock' in reasons:
            if not current['directory']:
                # The first look found no directory, so no guard was held: another run may have
                # made the directory and taken the lock since.
                waited = self.lock.waited
                if self._look() == 'stale':
                    self.warnings.append(self._stale_warning())
                self.lock.waited += waited
            if self.seen['state'] != 'ours':
                self.taken = self.lock.take()
        elif 'unlock' in reasons:
            self.lock.remove()
        # Other runs poll the guard: it goes as soon as .lock says what it has to.
        if self.lock is not None:
            self.lock.close()

    def settle(self, changed):
        # Taking and releasing the lock is this run's bookkeeping, not a change to the directory: a
        # second run of a playbook must still report changed=0. RV(lock) tells what happened.
        changed = changed and bool(set(self.reasons) - {'lock', 'unlock'})
        if not os.path.isdir(self.params['path']):
            return changed
        return files.apply_file_attributes(self.module, self.params['path'], changed, default_mode=DEFAULT_MODE)

    def result(self, current, desired, reasons):
        path = self.params['path']
        top, ignored = git_exposure(self.module, path)
        if top is not None and not ignored:
            self.warnings.append(
                'state directory %s is inside the git work tree %s and git does not ignore it: it holds the CA key '
                'and the signing keyring, which must never be committed. Add it to %s/.gitignore or set '
                'aci_registry_state_dir outside the work tree.' % (path, top, top))
        result = dict(path=path, git_work_tree=top, git_ignored=ignored)
        if self.lock is not None:
            result['lock'] = self._lock_result()
        return result

    def _lock_result(self):
        waited = self.lock.waited
        if self.want_lock == 'held':
            if self.seen['state'] == 'ours':
                record = self.seen['record']
            else:
                # What was written; in check mode, what would have been.
                record = self.taken or self.lock.record()
            lock = _holder(record, waited)
            lock.update(held=True, owner=self.lock.owner_kind)
        elif self.seen['state'] in ('live', 'stale') and self.seen['record'] is not None:
            lock = _holder(self.seen['record'], waited)
            lock.update(held=True, owner='another run')
        else:
            lock = dict(pid=None, started=None, command=None, host=None, taken_at=None, waited=waited, held=False,
                        owner=None)
        return lock

    def diff(self, current, desired):
        before = dict(path=self.params['path'], state='directory' if current['directory'] else 'absent')
        after = dict(path=self.params['path'], state='directory')
        if self.lock is not None:
            before['lock'] = self._lock_words(current['lock'])
            after['lock'] = self._lock_words(desired['lock'])
        return dict(before=before, after=after)

    def _lock_words(self, state):
        if state == 'ours':
            return 'held by this run (pid %d)' % self.lock.owner['pid']
        if state in ('live', 'stale') and self.seen['record'] is not None:
            return '%s by pid %s' % ('held' if state == 'live' else 'left', self.seen['record']['pid'])
        return 'free'

    def failure(self, error):
        details = dict(path=self.params['path'])
        if getattr(error, 'record', None) is not None:
            # A playbook may rescue the failure and tell the operator, or AWX, who is in the way.
            details['lock'] = dict(_holder(error.record, self.lock.waited), held=True, owner='another run')
        return details

    def close(self):
        if self.lock is not None:
            self.lock.close()
