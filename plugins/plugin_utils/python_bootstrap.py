# Copyright: aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Python for hosts that have none (Flatcar, Fedora CoreOS), with nothing but sh on the host.

Three steps, each a function of plain data so that it can be tested without a host: one probe the
host runs (what Python it has, what copy of ours, its architecture), the plan made from the probe
and the archive on the controller, and the installer the host runs when the plan says install.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shlex
import tarfile

# The archive's layout: one top-level directory, its interpreter, and its marker.
TOP = 'python'
INTERPRETER = 'bin/python3'
MARKER = 'aci-registry-python.json'
FORMAT = 1
# Written into an installed copy: the sha256 of the archive it came from.
SHA_FILE = '.aci-registry-archive-sha256'
# The oldest host Python the collection's modules run on.
MIN_PYTHON = (3, 8)
# Each line of the probe's and the installer's output that is meant for us starts with this, so
# that login banners and sudo's chatter are ignored.
KEY = 'aci-bootstrap-'
# uname -m of the host, and the names archives may use for it.
ARCH_ALIASES = {'amd64': 'x86_64', 'arm64': 'aarch64'}
HOW_TO_MAKE = ('`make python-archive` in the collection checkout builds one; roles/bootstrap/README.md '
               'says how to make one from public parts and the layout it must have')


class BootstrapError(Exception):
    """An expected failure: a message naming the problem and the fix, and what the host said."""

    def __init__(self, message, output=''):
        super().__init__(message)
        self.message = message
        self.output = output


def _check_imports(names):
    for name in names:
        if not re.match(r'^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$', name):
            raise BootstrapError('%r is not a Python module name: give names such as cryptography' % name)
    return names


def interpreter(target):
    return posixpath.join(target, INTERPRETER)


def check_target(target):
    target = posixpath.normpath(target or '')
    if not target.startswith('/') or posixpath.dirname(target) == target:
        raise BootstrapError('target %r must be an absolute path below / (for example /opt/aci-registry/python)' % target)
    return target


def import_check(imports):
    """Python code that exits 0 on a new enough Python with every module, 3 on an old one."""
    code = 'import sys; sys.version_info >= %r or sys.exit(3)' % (MIN_PYTHON,)
    return code + ''.join('; import %s' % name for name in _check_imports(imports))


def probe_command(candidates, target, imports, archive_imports):
    """The one command the host runs on every play: a shell script, Python only if the host has it.

    A host Python that imports everything is used and nothing else is looked at (one Python start on
    a Debian host); otherwise the installed copy of ours is checked too.
    """
    target = check_target(target)
    lines = ['echo %sarch="$(uname -m)"' % KEY]
    mine = interpreter(target)
    for python in [c for c in candidates if posixpath.normpath(c) != mine]:
        q = shlex.quote(python)
        lines.append(
            'if [ -x %(q)s ]; then %(q)s -c %(code)s >/dev/null 2>&1; rc=$?; '
            'if [ $rc = 0 ]; then echo %(key)ssystem=%(q)s; exit 0; '
            'elif [ $rc != 3 ]; then echo %(key)spartial=%(q)s; fi; fi'
            % dict(q=q, code=shlex.quote(import_check(imports)), key=KEY))
    lines.append('echo %sinstalled-sha256="$(cat %s 2>/dev/null)"' % (KEY, shlex.quote(posixpath.join(target, SHA_FILE))))
    lines.append('%s -c %s >/dev/null 2>&1 && echo %sinstalled=yes' % (
        shlex.quote(mine), shlex.quote(import_check(archive_imports)), KEY))
    lines.append('exit 0')
    return '\n'.join(lines)


def parse_probe(stdout, stderr=''):
    found = {}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith(KEY) and '=' in line:
            key, value = line[len(KEY):].split('=', 1)
            found.setdefault(key, value)
    if not found.get('arch'):
        raise BootstrapError('the host did not answer the probe (uname -m): is it a Unix host with a POSIX sh?',
                             (stdout + '\n' + stderr).strip())
    return dict(arch=found['arch'], system=found.get('system', ''), partial=found.get('partial', ''),
                installed_sha256=found.get('installed-sha256', ''), installed=found.get('installed') == 'yes')


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _inside(name):
    """The member's path below TOP, or None when it is not inside it."""
    if name.startswith('/'):
        return None
    parts = [p for p in name.split('/') if p not in ('', '.')]
    if not parts or parts[0] != TOP or '..' in parts:
        return None
    return '/'.join(parts[1:])


def _check_member(member):
    below = _inside(member.name)
    if below is None:
        raise BootstrapError('%s is outside the top-level directory %s/: every entry must be below it' % (member.name, TOP))
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise BootstrapError('%s is a device, fifo or other special file: the archive may hold files, '
                             'directories and links only' % member.name)
    if member.issym():
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))
        if member.linkname.startswith('/') or _inside(resolved) is None:
            raise BootstrapError('%s links to %s, outside %s/: links must stay inside the archive' % (
                member.name, member.linkname, TOP))
    if member.islnk() and _inside(member.linkname) is None:
        raise BootstrapError('%s is a hard link to %s, outside %s/' % (member.name, member.linkname, TOP))
    return below


def _read_marker(tar, member):
    try:
        manifest = json.loads(tar.extractfile(member).read().decode('utf-8'))
    except (ValueError, AttributeError) as e:
        raise BootstrapError('%s/%s is not JSON (%s): see the layout in roles/bootstrap/README.md' % (TOP, MARKER, e))
    if not isinstance(manifest, dict) or manifest.get('format') != FORMAT or not isinstance(manifest.get('arch'), str):
        raise BootstrapError('%s/%s must be a JSON object with "format": %d and "arch" (uname -m of the hosts '
                             'it runs on, e.g. "x86_64")' % (TOP, MARKER, FORMAT))
    return manifest


def read_archive(path):
    """The archive's sha256 and marker, after checking every entry stays inside TOP."""
    try:
        tar = tarfile.open(path, 'r:*')
    except (tarfile.TarError, EOFError) as e:
        raise BootstrapError('%s is not a tar archive (plain, gzip, bzip2 or xz): %s. %s' % (path, e, HOW_TO_MAKE))
    except OSError as e:
        raise BootstrapError('cannot read the Python archive %s: %s' % (path, e.strerror or e))
    manifest, seen = None, set()
    with tar:
        try:
            for member in tar:
                below = _check_member(member)
                seen.add(below)
                if below == MARKER and member.isfile():
                    manifest = _read_marker(tar, member)
        except (tarfile.TarError, EOFError, OSError) as e:
            raise BootstrapError('%s is damaged (%s): make it again. %s' % (path, e, HOW_TO_MAKE))
    if manifest is None:
        raise BootstrapError('%s has no %s/%s: it is not an archive for this role. %s' % (path, TOP, MARKER, HOW_TO_MAKE))
    if INTERPRETER not in seen:
        raise BootstrapError('%s has no %s/%s: the interpreter must be there' % (path, TOP, INTERPRETER))
    return dict(path=path, sha256=_sha256(path), manifest=manifest)


def same_arch(host, archive):
    return ARCH_ALIASES.get(archive, archive) == ARCH_ALIASES.get(host, host)


def plan(probe, archive_path, target, read=read_archive):
    """What to do, as a dict: action (system, installed, partial, install), python, and the archive.

    The archive is read only when the host has no usable Python: hosts that do never pay for it.
    """
    target = check_target(target)
    if probe['system']:
        return dict(action='system', python=probe['system'])
    if not archive_path:
        if probe['installed']:
            return dict(action='installed', python=interpreter(target))
        if probe['partial']:
            return dict(action='partial', python=probe['partial'])
        raise BootstrapError('this host has no Python %d.%d or later, and no archive was given to install one: '
                             'set bootstrap_python_archive (option archive of aci.registry.python_bootstrap) to a '
                             'Python archive on the controller. %s' % (MIN_PYTHON + (HOW_TO_MAKE,)))
    archive = read(archive_path)
    if probe['installed'] and probe['installed_sha256'] == archive['sha256']:
        return dict(action='installed', python=interpreter(target), archive=archive)
    arch = archive['manifest']['arch']
    if not same_arch(probe['arch'], arch):
        raise BootstrapError('%s is a Python for %s, and this host is %s (uname -m): give an archive made for %s'
                             % (archive_path, arch, probe['arch'], probe['arch']))
    return dict(action='install', python=interpreter(target), archive=archive)


# Runs as root on the host, with sh, tar and coreutils only. The live path (target) is a symlink to
# a complete copy; a new copy is unpacked and checked beside it, then the symlink is replaced with
# one rename. An interrupted run leaves the old copy live (and a .new directory the next run
# removes), never half a copy.
INSTALLER = r'''
archive=$1 target=$2 sha=$3 check=$4
parent=$(dirname "$target") name=$(basename "$target")
copy=$name.$(printf %.16s "$sha")
fail() { echo "aci-bootstrap-error=$1"; [ -z "${2:-}" ] || printf '%s\n' "$2"; exit 1; }
mkdir -p "$parent" || fail "cannot create $parent"
rm -rf "$parent/.$name.new."*
work=$(mktemp -d "$parent/.$name.new.XXXXXX") || fail "cannot create a directory in $parent"
trap 'rm -rf "$work"' EXIT
out=$(tar -x --no-same-owner -f "$archive" -C "$work" 2>&1) || fail "tar could not unpack the archive" "$out"
out=$("$work/python/bin/python3" -c "$check" 2>&1) || fail "the unpacked Python does not run here" "$out"
printf '%s\n' "$sha" > "$work/python/.aci-registry-archive-sha256" || fail "cannot write into $work"
rm -rf "${parent:?}/$copy"
mv "$work/python" "$parent/$copy" || fail "cannot move the new copy to $parent/$copy"
# A directory at the live path (unpacked by hand) cannot be replaced by a rename: set it aside.
if [ -d "$target" ] && [ ! -L "$target" ]; then mv "$target" "$work/previous" || fail "cannot move $target aside"; fi
ln -s "$copy" "$work/link" || fail "cannot make a link in $work"
mv -T "$work/link" "$target" || fail "cannot switch $target to $copy"
for old in "$parent/$name".[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]; do
    [ "$old" = "$parent/$copy" ] || [ ! -d "$old" ] || rm -rf "$old"
done
echo "aci-bootstrap-installed=$parent/$copy"
'''


def install_command(remote_archive, target, sha256, archive_imports):
    target = check_target(target)
    if not re.match(r'^[0-9a-f]{64}$', sha256):
        raise BootstrapError('%r is not a sha256' % sha256)
    code = 'import sys; ' + '; '.join('import %s' % n for n in _check_imports(archive_imports) or ['sys'])
    args = [remote_archive, target, sha256, code + "; print('.'.join(map(str, sys.version_info[:3])))"]
    return 'sh -c %s aci-bootstrap %s' % (shlex.quote(INSTALLER), ' '.join(shlex.quote(a) for a in args))


def parse_install(rc, stdout, stderr):
    """The installed copy's directory; a failure names what the host said."""
    lines = stdout.splitlines()
    for number, line in enumerate(lines):
        if line.startswith(KEY + 'installed='):
            return line.split('=', 1)[1]
        if line.startswith(KEY + 'error='):
            said = '\n'.join(lines[number + 1:]).strip() or stderr.strip()
            raise BootstrapError('installing the Python failed: %s%s' % (
                line.split('=', 1)[1], (': ' + said) if said else ''), said)
    raise BootstrapError('the installer stopped (rc=%s) without saying why: %s' % (rc, (stderr or stdout).strip()),
                         stderr or stdout)
