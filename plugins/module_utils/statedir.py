# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's state directory (CA key, signing keyring, builds): kept private, and never
silently inside a git work tree, where one `git add .` would publish the CA key."""

from __future__ import annotations

import os

from ansible_collections.aci.registry.plugins.module_utils import converge, files

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


class StateDir(converge.Resource):
    errors = (OSError,)

    def current(self):
        return os.path.isdir(self.params['path'])

    def desired(self, current):
        path = self.params['path']
        if os.path.lexists(path) and not current:
            raise converge.ModuleError('state directory %s exists and is not a directory: move it away or set '
                                       'another path' % path, path=path)
        return True

    def differences(self, current, desired):
        return [] if current else ['missing']

    def apply(self, current, desired, reasons):
        os.makedirs(self.params['path'], mode=DEFAULT_MODE)

    def settle(self, changed):
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
        return dict(path=path, git_work_tree=top, git_ignored=ignored)

    def diff(self, current, desired):
        return dict(before=dict(path=self.params['path'], state='directory' if current else 'absent'),
                    after=dict(path=self.params['path'], state='directory'))

    def failure(self, error):
        return dict(path=self.params['path'])
