# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that writes files for this collection's modules.

Every write goes to a temporary file in the destination directory, is flushed to disk, gets its
mode/owner/group applied, and only then is renamed over the destination with ``atomic_move``:
an error or a kill at any point leaves the previous file exactly as it was.
"""

from __future__ import annotations

import errno
import os
import tempfile

# Key material must never be world-readable, not even for the instant before attributes apply.
_TEMP_MODE = 0o600


def read_bytes(path):
    """Return the bytes at ``path`` or ``None`` when there is no file."""
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return None


def check_writable_dir(module, path):
    """Fail with a message naming the directory when ``path`` cannot be created there.

    In check mode a missing directory is accepted when it could be made (its nearest existing
    ancestor is writable): in a dry run, the task that would create it has not run either.
    """
    directory = os.path.dirname(os.path.abspath(path)) or '.'
    if not os.path.isdir(directory):
        if module.check_mode:
            ancestor = directory
            while not os.path.isdir(ancestor):
                ancestor = os.path.dirname(ancestor)
            if os.access(ancestor, os.W_OK | os.X_OK):
                return
        module.fail_json(msg='Cannot write %s: directory %s does not exist; create it first.' % (path, directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        module.fail_json(msg='Cannot write %s: directory %s is not writable by this user.' % (path, directory))


# "Take the mode from the module's own mode option", as opposed to an explicit mode (or None).
_MODULE_MODE = object()


def file_attributes(module, path, default_mode=None, mode=_MODULE_MODE):
    """The common file arguments (mode/owner/group/...) for ``path``.

    ``mode`` replaces the module's ``mode`` option, for a second file with an option of its own
    (a private key beside its certificate); ``default_mode`` applies when neither gives one.
    """
    file_args = module.load_file_common_arguments(module.params, path=path)
    if mode is not _MODULE_MODE:
        file_args['mode'] = mode
    if file_args.get('mode') is None and default_mode is not None:
        file_args['mode'] = default_mode
    return file_args


def apply_file_attributes(module, path, changed, default_mode=None, mode=_MODULE_MODE):
    """Bring an existing file's attributes in line; returns the new ``changed`` (check-mode aware)."""
    return module.set_fs_attributes_if_different(file_attributes(module, path, default_mode, mode), changed)


# The disk said no while a file was being written: full, over quota, too large, read-only.
_FULL_ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS))


def write_file(module, path, content=None, writer=None, default_mode=None, backup=False, mode=_MODULE_MODE):
    """Atomically replace ``path``; returns the backup file name or ``None``.

    Give either ``content`` (bytes) or ``writer``, a callable that receives an open binary file
    object (for large, streamed output) whose ``name`` is the temporary path; a writer that raises
    leaves the destination untouched. Attributes come from the module's common file arguments,
    with ``default_mode`` when the user set no mode (``mode`` as in ``file_attributes``).
    Never call this in check mode.
    """
    check_writable_dir(module, path)
    dest = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(dest), suffix='.tmp', dir=os.path.dirname(dest))
    try:
        os.fchmod(fd, _TEMP_MODE)
        os.close(fd)
        # Opened by name so that f.name is the temporary path: a writer may check what it wrote.
        with open(tmp, 'wb') as f:
            if writer is not None:
                writer(f)
            else:
                f.write(content)
            f.flush()
            os.fsync(f.fileno())
        # Attributes go on before the rename so the file never appears with looser permissions ...
        module.set_fs_attributes_if_different(file_attributes(module, tmp, default_mode, mode), False)
        backup_file = module.backup_local(dest) if backup and os.path.exists(dest) else None
        module.atomic_move(tmp, dest, unsafe_writes=module.params.get('unsafe_writes', False))
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and not e.filename and e.errno in _FULL_ERRNOS:
            # write() does not say which file it was: name the destination, not the temp file.
            raise OSError(e.errno, e.strerror, dest) from e
        raise
    # ... and again after it, because atomic_move copies the replaced file's mode and owner.
    module.set_fs_attributes_if_different(file_attributes(module, dest, default_mode, mode), True)
    return backup_file


def remove_file(module, path, backup=False):
    """Remove ``path`` if present; returns ``(removed, backup_file)``."""
    if not os.path.lexists(path):
        return False, None
    backup_file = module.backup_local(path) if backup else None
    if not module.check_mode:
        os.unlink(path)
    return True, backup_file
