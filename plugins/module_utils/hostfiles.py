# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files taken from the host that builds an image: programs with everything the dynamic loader
needs to start them (``elf.resolve``), and single files copied to a path of their own.

They are added to a root filesystem directory (or to nothing: an image of programs alone) as
archive entries in the order ``aci.TreeSource`` yields its own, so one sorted stream results and
the same host gives the same bytes. Directories the host files need and the rootfs lacks are
made (mode 0755, root, time 0). A path that both the rootfs and the host files provide is an
error rather than a silent choice; directories they share are the rootfs's.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.aci.registry.plugins.module_utils import aci
from ansible_collections.aci.registry.plugins.module_utils import elf


def _key(name):
    # TreeSource lists each directory sorted by name, depth first: the order of component tuples.
    return tuple(name.split('/'))


def _image_path(path, what):
    """``path`` as an absolute, normalised image path, or AciError."""
    if not isinstance(path, str) or not path.startswith('/'):
        raise aci.AciError('%s %r is not an absolute path in the image (such as /bin/app)' % (what, path))
    parts = [p for p in path.split('/') if p not in ('', '.')]
    if not parts or '..' in parts:
        raise aci.AciError('%s %r must name a file below / without ".." in it' % (what, path))
    return '/' + '/'.join(parts)


def _mode(value, what):
    """A file mode given as ``'0755'``, ``'755'`` or an int, or None."""
    if value is None:
        return None
    try:
        mode = int(value, 8) if isinstance(value, str) else int(value)
    except ValueError:
        raise aci.AciError('%s: mode %r is not an octal number such as 0755' % (what, value))
    if not 0 <= mode <= 0o7777:
        raise aci.AciError('%s: mode %r is out of range (0000 to 7777)' % (what, value))
    return mode


def _through_links(path, links):
    """``path`` with each symlinked directory among its ancestors followed, inside the image."""
    for dummy in range(40):  # the kernel's own limit on links in one lookup
        parts = path.strip('/').split('/')
        for i in range(1, len(parts)):
            head = '/' + '/'.join(parts[:i])
            if head in links:
                target = links[head]
                base = '/' if target.startswith('/') else os.path.dirname(head)
                path = os.path.normpath(os.path.join(base, target.lstrip('/'), *parts[i:]))
                break
        else:
            return path
    raise aci.AciError('%s: too many levels of symbolic links among the files taken from the host' % path)


def _links(plan):
    """``{image path: link text}`` of the planned entries that are symlinks on the host."""
    return dict((path, os.readlink(src)) for path, (src, dummy, what) in plan.items() if os.path.islink(src))


def _same_place(theirs, mine):
    """Whether a rootfs entry and a host entry of one name agree: two directories, or two
    symlinks to the same target (a rootfs laid out like the host, /lib -> usr/lib)."""
    if theirs.kind == mine.kind == aci.DIRECTORY:
        return True
    return theirs.kind == mine.kind == aci.SYMLINK and theirs.linkname == mine.linkname


class HostFilesSource(aci.TreeSource):
    """``base`` (a TreeSource or LayoutSource, or None) plus ``programs`` (host paths, resolved
    with their libraries) and ``files`` (dicts of ``src`` on the host, ``dest`` in the image and
    an optional ``mode``). ``root`` is the host's root directory (a test tree in the unit tests)."""

    def __init__(self, base, programs=(), files=(), root='/'):
        super().__init__(root)
        self.base = base
        self.manifest = base.manifest if base is not None else None
        if base is not None:
            self.warnings = base.warnings
        self.plan = self._plan(list(programs or ()), list(files or ()))

    def _plan(self, programs, files):
        """``{image path: (host path, mode or None, what)}`` plus the image paths that are host symlinks."""
        plan = {}
        try:
            resolved = elf.resolve([_image_path(p, 'program') for p in programs], root=self.rootfs)
        except elf.ElfError as e:
            raise aci.AciError(str(e))
        for item in resolved:
            if item.kind == 'directory':
                continue
            plan[item.path] = (self._host(item.path), None, 'needed by programs')
        for number, spec in enumerate(files, 1):
            what = 'files[%d]' % number
            if not isinstance(spec, dict) or not spec.get('src') or not spec.get('dest'):
                raise aci.AciError('%s needs src (a file on the build host) and dest (its path in the image)' % what)
            dest = _image_path(spec['dest'], '%s dest' % what)
            if not os.path.isfile(spec['src']):
                raise aci.AciError('%s: src %s is not a file on the build host' % (what, spec['src']))
            # A file is copied for its content: a symlink given as src is followed.
            src = os.path.realpath(spec['src'])
            if dest in plan and plan[dest][0] != os.path.realpath(src):
                raise aci.AciError('%s: dest %s is also %s, %s' % (what, dest, plan[dest][2], plan[dest][0]))
            plan[dest] = (src, _mode(spec.get('mode'), what), what)
        self._check_interpreters(plan, files)
        return plan

    def _check_interpreters(self, plan, files):
        """Warn about a file whose ``#!`` interpreter the image lacks: it could never start."""
        links = _links(plan)
        present = set(_through_links(path, links) for path in plan)
        for number, spec in enumerate(files, 1):
            with open(spec['src'], 'rb') as f:
                head = f.readline(256)
            words = head[2:].split() if head.startswith(b'#!') else []
            if not words:
                continue
            interpreter = words[0].decode('utf-8', 'replace')
            inside = _through_links(interpreter, links) if interpreter.startswith('/') else None
            in_base = self.base is not None and os.path.lexists(os.path.join(self.base.rootfs, interpreter.lstrip('/')))
            if inside not in present and not in_base:
                self.warnings.add('files[%d] (%s) starts with #!%s, which is not in the image: add %s to programs, '
                                  'or the script cannot start' % (number, spec['dest'], interpreter, interpreter))

    def _host(self, path):
        return os.path.join(self.rootfs, path.lstrip('/'))

    def _host_entries(self, owner_root):
        """The host files as entries, with the parent directories they need, sorted."""
        stats = {}
        for path, (src, dummy, what) in self.plan.items():
            try:
                stats[path] = os.lstat(src)
            except OSError as e:
                raise aci.AciError('%s (%s): cannot read %s: %s' % (path, what, src, e.strerror))
            if not (stat.S_ISREG(stats[path].st_mode) or stat.S_ISLNK(stats[path].st_mode)):
                raise aci.AciError('%s (%s): %s is neither a file nor a symlink' % (path, what, src))
        dir_links = _links(self.plan)
        # A file meant for /bin/app1 where the plan makes /bin a link to usr/bin (merged /usr)
        # goes where the link leads, as it would on the host.
        placed = {}
        for path in self.plan:
            real = _through_links(path, dir_links)
            if real in placed and self.plan[placed[real]][0] != self.plan[path][0]:
                raise aci.AciError('%s (%s) and %s (%s) are the same place in the image, %s'
                                   % (path, self.plan[path][2], placed[real], self.plan[placed[real]][2], real))
            placed[real] = path
        links, entries, dirs = {}, {}, set()
        for real in sorted(placed, key=_key):
            path = placed[real]
            src, mode, what = self.plan[path]
            name = aci.ROOTFS + real
            entry = self._entry(name, src, stats[path], owner_root, links)
            if mode is not None:
                entry.mode = mode
            entries[name] = entry
            parent = name.rsplit('/', 1)[0]
            while parent != aci.ROOTFS and parent not in dirs:
                dirs.add(parent)
                parent = parent.rsplit('/', 1)[0]
        for name in dirs:
            entries.setdefault(name, aci.Entry(name, aci.DIRECTORY, 0o755))
        return [entries[name] for name in sorted(entries, key=_key)]

    def entries(self, owner_root=False):
        host = self._host_entries(owner_root)
        if self.base is not None:
            base = self.base.entries(owner_root)
        else:
            base = iter([aci.Entry(aci.ROOTFS, aci.DIRECTORY, 0o755)])
        ours = iter(host)
        mine, theirs = next(ours, None), next(base, None)
        while mine is not None or theirs is not None:
            if mine is None or (theirs is not None and _key(theirs.name) < _key(mine.name)):
                yield theirs
                theirs = next(base, None)
                continue
            if theirs is not None and theirs.name == mine.name:
                if not _same_place(theirs, mine):
                    path = mine.name[len(aci.ROOTFS):]
                    src, dummy, what = self.plan.get(path, (None, None, 'a directory the host files need'))
                    raise aci.AciError('%s is in the rootfs and also %s%s; remove one of them'
                                       % (path, what, ' (%s)' % src if src else ''))
                yield theirs
                theirs = next(base, None)
            else:
                yield mine
            mine = next(ours, None)
