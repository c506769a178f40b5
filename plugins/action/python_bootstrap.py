# Copyright: aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The python_bootstrap action: runs entirely from the controller, with shell commands and the
connection's own file transfer, because the host it serves has no Python to run a module with."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.aci.registry.plugins.plugin_utils import python_bootstrap as pb

ARGUMENT_SPEC = dict(
    archive=dict(type='str', default=''),
    target=dict(type='str', default='/opt/aci-registry/python'),
    candidates=dict(type='list', elements='str', default=['/usr/bin/python3']),
    imports=dict(type='list', elements='str', default=['cryptography']),
    archive_imports=dict(type='list', elements='str', default=['cryptography', 'gnupg']),
)


class ActionModule(ActionBase):
    # The archive is sent only when the plan says install; no temporary directory before that.
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            result.update(self._converge(args))
        except pb.BootstrapError as e:
            result.update(failed=True, msg=e.message)
            if e.output:
                result['host_output'] = e.output
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _shell(self, command):
        out = self._low_level_execute_command(command, sudoable=True)
        return out['rc'], out.get('stdout', ''), out.get('stderr', '')

    def _converge(self, args):
        target = pb.check_target(args['target'])
        rc, stdout, stderr = self._shell(pb.probe_command(args['candidates'], target, args['imports'], args['archive_imports']))
        probe = pb.parse_probe(stdout, stderr)
        step = pb.plan(probe, self._archive_path(args['archive']), target)
        result = dict(changed=step['action'] == 'install', python=step['python'], source=step['action'],
                      arch=probe['arch'], target=target)
        if 'archive' in step:
            result.update(archive_sha256=step['archive']['sha256'], archive_manifest=step['archive']['manifest'])
        if step['action'] == 'partial':
            result['warnings'] = ['%s lacks %s and no archive was given: modules that need them will fail. Set '
                                  'bootstrap_python_archive to install a Python that has them.'
                                  % (step['python'], ', '.join(args['imports']))]
        if step['action'] == 'install' and not self._task.check_mode:
            result['installed'] = self._install(step['archive'], target, args['archive_imports'])
        return result

    def _archive_path(self, archive):
        if not archive:
            return ''
        try:
            # As copy's src: the role's or playbook's files/ first, then the path as given.
            return self._find_needle('files', archive)
        except AnsibleError:
            raise pb.BootstrapError('the Python archive %s does not exist on the controller: set '
                                    'bootstrap_python_archive to an existing file. %s' % (archive, pb.HOW_TO_MAKE))

    def _install(self, archive, target, archive_imports):
        tmpdir = self._make_tmp_path()
        remote = self._connection._shell.join_path(tmpdir, 'python.tar')
        self._transfer_file(archive['path'], remote)
        rc, stdout, stderr = self._shell(pb.install_command(remote, target, archive['sha256'], archive_imports))
        return pb.parse_install(rc, stdout, stderr)
