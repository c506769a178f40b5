# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files an image needs so its programs run, found the way glibc's ``ld.so`` finds them.

``resolve(programs, root='/')`` reads the programs and every library they need as ELF files,
with a small reader of its own, and never executes anything (no ``ldd``, no ``ld.so --list``):
the build host may hold programs of another machine, and running a file to learn about it
would make the build depend on what it does. The result is a plan: ``PlanEntry`` records
sorted by image path, each path once.

What is read
  Program headers ``PT_INTERP`` (the loader path, which must then exist at that exact path in
  the image), ``PT_LOAD`` (to map the virtual address in ``DT_STRTAB`` to a file offset) and
  ``PT_DYNAMIC`` with ``DT_NEEDED``, ``DT_SONAME``, ``DT_RPATH``, ``DT_RUNPATH``,
  ``DT_STRTAB``/``DT_STRSZ`` and ``DT_FLAGS_1`` (for ``DF_1_NODEFLIB``). ELF32 and ELF64, either
  byte order. A program with neither ``PT_INTERP`` nor ``DT_NEEDED`` is static: only itself.

How a ``DT_NEEDED`` name is found (glibc 2.36 ``elf/dl-load.c``, ``man ld.so``)
  * A name already loaded for this program (a needed name, a ``DT_SONAME``, or the loader's
    own path or soname) is not searched again; libraries load breadth first, like ld.so does.
  * A name with a slash is a path (after ``$ORIGIN`` expansion); a relative one is refused,
    since it would depend on the working directory.
  * Otherwise, in order: ``DT_RPATH`` of the requesting object, then of the object that loaded
    it, up to the program (only when the requesting object has no ``DT_RUNPATH``);
    ``DT_RUNPATH`` of the requesting object only; the loader cache ``/etc/ld.so.cache``; the
    loader's built-in directories. ``LD_LIBRARY_PATH`` and the rest of the environment are
    ignored: a build must not depend on who runs it.
  * ``DF_1_NODEFLIB`` on the requesting object skips the built-in directories and cache
    entries inside them, as ld.so does.
  * A candidate is taken only when it is a regular file whose ELF class, byte order and
    machine are the program's; others (a 32-bit copy, a linker script) are skipped, as ld.so
    skips them, and named in the error if nothing else is found. Where ld.so would pick a
    cache entry by its flags, we pick the first entry whose file has the program's class,
    byte order and machine: ldconfig writes those flags from the same header fields.
  * The built-in directories are Debian's, as ``ld.so --help`` lists them on Debian 12 for
    x86-64: ``/lib/<triplet>``, ``/usr/lib/<triplet>``, ``/lib``, ``/usr/lib`` (no ``/lib64``:
    Debian's loader does not search it, that directory only holds the loader's own symlink).
    They are known for x86-64, i386 and AArch64; another machine has none here, so its
    libraries must come from a path list or the cache (the error says so).
    ``/etc/ld.so.conf`` is not read: ld.so never reads it, only ldconfig does, into the cache.
  * Neither ``glibc-hwcaps`` nor legacy hwcap subdirectories (``haswell``, ``tls``...) are
    searched and cache entries for them are skipped: they depend on the CPU the image runs on,
    and the baseline library works on every CPU of the machine type.
  * ``$ORIGIN``/``${ORIGIN}`` in a path list or a needed name is the directory of the object:
    for the program, of its path with every symlink resolved (ld.so asks the kernel through
    ``/proc/self/exe``, which gives that path); for a library, of the path it was found at, as
    written (``/opt/app/bin/../lib/libx.so`` gives ``/opt/app/bin/../lib``), as ld.so does.
    ``$LIB`` and ``$PLATFORM`` are refused: their values depend on the loader build and the CPU.
    An empty or relative directory in a path list is refused (ld.so would use the working
    directory); a wholly empty list is ignored, as ld.so ignores it. Set-user-ID restrictions
    on ``$ORIGIN`` do not apply (the program is not run).
  * The loader named by ``PT_INTERP`` is in the plan with its symlinks; its own ``DT_SONAME``
    counts as loaded (libc needs ``ld-linux-x86-64.so.2`` and gets it), and nothing it might
    need is followed: ld.so is self-contained, and loads nothing for itself.
  * Only glibc's rules are implemented: a program for another loader (musl...) is resolved
    with them all the same.

The loader cache
  ``read_ld_cache()`` reads the ``glibc-ld.so.cache1.1`` format (glibc's
  ``sysdeps/generic/dl-cache.h``: a 48-byte header, 24-byte entries of flags, key and value
  string offsets from the start of the file, osversion and hwcap). The old ``ld.so-1.7.0``
  format, alone or in front of the new one, is refused: glibc's ldconfig has not written it
  since 2.32. A missing, unreadable or damaged cache is ignored, as ld.so ignores it, and the
  search goes on with the built-in directories. When some library was reached only through
  the cache (the built-in directories would not give the same path, e.g. ``/usr/local/lib``),
  the plan includes ``/etc/ld.so.cache`` itself, so the image's loader finds it the same way.

``#!`` scripts
  The script is in the plan and so, recursively, is its interpreter (the first word after
  ``#!``, which must be absolute). For an interpreter named ``env`` the one argument after it
  is a program name, looked up in the fixed ``PATH``
  ``/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`` (first executable regular
  file), since the image's ``PATH`` is not known here; ``env`` options (``-S``...) are refused.
  Like Linux, at most 5 interpreters deep.

Paths, ``root`` and symlinks
  Every path (programs, ``PT_INTERP``, search directories, cache values, absolute symlink
  targets) is a path inside ``root``; ``root='/'`` is the build host itself. A path is walked
  one component at a time, like the kernel walks it: each symlink met on the way, a file or a
  directory (``/lib`` -> ``usr/lib`` on merged-usr Debian), is a ``symlink`` entry with its link
  text unchanged, and the file at the end is a ``file`` entry. Entry paths are physical (no
  symlink among their parents), so the caller may create parent directories as plain
  directories: ``/lib64/ld-linux-x86-64.so.2`` on Debian 12 gives ``/lib64`` -> ``usr/lib64``,
  ``/usr/lib64/ld-linux-x86-64.so.2`` -> ``/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2``,
  ``/lib`` -> ``usr/lib`` and the file ``/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2``, and
  the path works in the image exactly as on the host. ``directory`` entries are never made.
  More than 40 symlinks in one walk is a loop; ``..`` above ``root`` escapes it: both refused.

Every refusal is an ``ElfError`` whose message names the file (and, for a library that cannot
be found, the program, the library, the object that needs it and the places searched).
"""

from __future__ import annotations

import collections
import os
import posixpath
import re
import stat
import struct
from dataclasses import dataclass, replace


class ElfError(Exception):
    """A program whose needs cannot be known for sure; the message says which file and why."""


@dataclass(frozen=True)
class PlanEntry:
    """One path of the image: a ``file`` copied from ``source`` or a ``symlink`` to ``target``.

    ``path`` is the path in the image; ``source`` is the host path (``root`` joined with
    ``path``) for files; ``target`` is the link text as on the host for symlinks.
    """

    path: str
    kind: str
    source: str | None = None
    target: str | None = None


# ---- ELF reader ----------------------------------------------------------------------------

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 14, 15, 29
DT_FLAGS_1, DF_1_NODEFLIB = 0x6ffffffb, 0x800

# struct formats by ELF class: the header after e_ident, one program header, one dynamic entry.
_FORMATS = {
    32: ('HHIIIIIHHHHHH', 'IIIIIIII', 'iI'),
    64: ('HHIQQQIHHHHHH', 'IIQQQQQQ', 'qQ'),
}
_CLASSES = {1: 32, 2: 64}
_BYTE_ORDERS = {1: '<', 2: '>'}
_MACHINES = {3: 'i386', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V'}
# Nothing the loader reads is this large; a bigger size is a damaged header, not a real file.
_MAX_READ = 64 << 20

_Segment = collections.namedtuple('_Segment', 'type offset vaddr filesz')


@dataclass(frozen=True)
class ElfInfo:
    """What the loader reads from one ELF file.

    ``identity`` is ``(class, byte order, machine)``, e.g. ``(64, '<', 62)``: what a library must
    share with its program. ``rpath`` and ``runpath`` are the raw ``:``-separated strings, or
    ``None`` when the entry is absent (an empty ``DT_RUNPATH`` still turns ``DT_RPATH`` off).
    """

    identity: tuple
    interp: str | None = None
    needed: tuple = ()
    soname: str | None = None
    rpath: str | None = None
    runpath: str | None = None
    nodeflib: bool = False


def elf_identity(head):
    """Return ``(class, byte order, machine)`` from a file's first bytes, ``None`` if not ELF."""
    if len(head) < 20 or head[:4] != b'\x7fELF':
        return None
    elf_class, order = _CLASSES.get(head[4]), _BYTE_ORDERS.get(head[5])
    if elf_class is None or order is None:
        return None
    return elf_class, order, struct.unpack_from(order + 'H', head, 18)[0]


def describe(identity):
    """Say what kind of file an identity is, for messages."""
    if identity is None:
        return 'not ELF'
    elf_class, order, machine = identity
    name = _MACHINES.get(machine, 'machine %d' % machine)
    return 'ELF%d %s %s' % (elf_class, 'LSB' if order == '<' else 'MSB', name)


def read_elf(path):
    """Return the ``ElfInfo`` of the ELF file at host path ``path``."""
    try:
        with open(path, 'rb') as f:
            identity = elf_identity(f.read(20))
            if identity is None:
                raise ElfError('%s: not an ELF file' % path)
            return _ElfFile(f, path, identity).info()
    except OSError as e:
        raise ElfError('%s: cannot read: %s' % (path, e.strerror or e))


class _ElfFile:
    """An open ELF file, read by offset, every read checked so damage is an ElfError."""

    def __init__(self, f, path, identity):
        self._f, self.path, self.identity = f, path, identity
        self._class, self._order = identity[0], identity[1]
        self._size = os.fstat(f.fileno()).st_size

    def info(self):
        segments = self._segments()
        interp = [s for s in segments if s.type == PT_INTERP]
        dynamic = [s for s in segments if s.type == PT_DYNAMIC]
        info = ElfInfo(self.identity, interp=self._interp(interp[0]) if interp else None)
        return self._dynamic_info(info, dynamic[0], segments) if dynamic else info

    def _read(self, offset, size):
        if size > _MAX_READ:
            raise ElfError('%s: damaged ELF file (%d bytes at offset %d)' % (self.path, size, offset))
        if offset + size > self._size:
            raise ElfError('%s: truncated ELF file (wanted %d bytes at offset %d, the file has %d)'
                           % (self.path, size, offset, self._size))
        self._f.seek(offset)
        return self._f.read(size)

    def _segments(self):
        header, phdr = _FORMATS[self._class][:2]
        fields = struct.unpack(self._order + header, self._read(16, struct.calcsize(header)))
        phoff, phentsize, phnum = fields[4], fields[8], fields[9]
        fmt = self._order + phdr
        # 0xffff (PN_XNUM) moves the count to a section header: no loader-made file does that.
        if phnum == 0xffff or (phnum and phentsize < struct.calcsize(fmt)):
            raise ElfError('%s: damaged ELF file (%d program headers of %d bytes)' % (self.path, phnum, phentsize))
        table = self._read(phoff, phnum * phentsize)
        return [self._segment(struct.unpack_from(fmt, table, i * phentsize)) for i in range(phnum)]

    def _segment(self, fields):
        # The two classes order the program header fields differently (p_flags moved in ELF64).
        if self._class == 32:
            return _Segment(fields[0], fields[1], fields[2], fields[4])
        return _Segment(fields[0], fields[2], fields[3], fields[5])

    def _interp(self, segment):
        return os.fsdecode(self._read(segment.offset, segment.filesz).split(b'\0', 1)[0])

    def _dynamic_info(self, info, segment, segments):
        entry = _FORMATS[self._class][2]
        size = struct.calcsize(entry)
        data = self._read(segment.offset, segment.filesz - segment.filesz % size)
        tags, needed = {}, []
        for tag, value in struct.iter_unpack(self._order + entry, data):
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                needed.append(value)
            tags[tag] = value  # a repeated tag: the last one wins, as in glibc's l_info[]
        uses_strings = needed or {DT_SONAME, DT_RPATH, DT_RUNPATH} & tags.keys()
        strings = self._strtab(tags, segments) if uses_strings else b''
        return replace(info, needed=tuple(self._string(strings, i) for i in needed),
                       soname=self._optional(strings, tags, DT_SONAME),
                       rpath=self._optional(strings, tags, DT_RPATH),
                       runpath=self._optional(strings, tags, DT_RUNPATH),
                       nodeflib=bool(tags.get(DT_FLAGS_1, 0) & DF_1_NODEFLIB))

    def _strtab(self, tags, segments):
        if DT_STRTAB not in tags or DT_STRSZ not in tags:
            raise ElfError('%s: damaged ELF file (dynamic section without a string table)' % self.path)
        address = tags[DT_STRTAB]
        for s in segments:
            # DT_STRTAB is a virtual address: the PT_LOAD segment holding it gives the file offset.
            if s.type == PT_LOAD and s.vaddr <= address < s.vaddr + s.filesz:
                return self._read(address - s.vaddr + s.offset, tags[DT_STRSZ])
        raise ElfError('%s: damaged ELF file (string table address %#x is in no loaded segment)'
                       % (self.path, address))

    def _string(self, strings, index):
        end = strings.find(b'\0', index)
        if index >= len(strings) or end < 0:
            raise ElfError('%s: damaged ELF file (string %d outside the string table)' % (self.path, index))
        return os.fsdecode(strings[index:end])

    def _optional(self, strings, tags, tag):
        return self._string(strings, tags[tag]) if tag in tags else None


# ---- ld.so.cache reader --------------------------------------------------------------------

CACHE_PATH = '/etc/ld.so.cache'
_CACHE_MAGIC = b'glibc-ld.so.cache1.1'
_CACHE_OLD_MAGIC = b'ld.so-1.7.0'
_CACHE_HEADER = 'IIB3xI12x'  # nlibs, len_strings, byte-order flags, extension_offset, unused
_CACHE_ENTRY = 'iIIIQ'  # flags, key, value, osversion, hwcap
_CACHE_ORDERS = {0: '=', 2: '<', 3: '>'}  # 0: written before glibc 2.32 recorded the byte order


def read_ld_cache(path):
    """Return ``{soname: (path, ...)}`` from the loader cache at host path ``path``.

    Paths keep the cache's order for each name. Entries for hwcap subdirectories are left out
    (see the module docs); so are entries whose strings lie outside the file.
    """
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise ElfError('%s: cannot read: %s' % (path, e.strerror or e))
    order = _cache_byte_order(data, path)
    start = len(_CACHE_MAGIC) + struct.calcsize(_CACHE_HEADER)
    nlibs = struct.unpack_from(order + 'I', data, len(_CACHE_MAGIC))[0]
    size = struct.calcsize(_CACHE_ENTRY)
    if start + nlibs * size > len(data):
        raise ElfError('%s: damaged loader cache (%d entries do not fit in %d bytes)' % (path, nlibs, len(data)))
    entries = {}
    for fields in struct.iter_unpack(order + _CACHE_ENTRY, data[start:start + nlibs * size]):
        name, target, hwcap = _cache_string(data, fields[1]), _cache_string(data, fields[2]), fields[4]
        if hwcap == 0 and name and target:
            entries.setdefault(name, []).append(target)
    return {name: tuple(paths) for name, paths in entries.items()}


def _cache_byte_order(data, path):
    if data.startswith(_CACHE_OLD_MAGIC):
        raise ElfError('%s: old "ld.so-1.7.0" loader cache format, not supported' % path)
    if not data.startswith(_CACHE_MAGIC) or len(data) < 48:
        raise ElfError('%s: not a glibc-ld.so.cache1.1 loader cache' % path)
    order = _CACHE_ORDERS.get(data[28])
    if order is None:
        raise ElfError('%s: damaged loader cache (byte order flag %d)' % (path, data[28]))
    return order


def _cache_string(data, offset):
    end = data.find(b'\0', offset)
    return os.fsdecode(data[offset:end]) if offset < len(data) and end >= 0 else None


# ---- paths inside root ---------------------------------------------------------------------

_MAX_SYMLINKS = 40  # Linux's MAXSYMLINKS: more on one walk is a loop


class _Tree:
    """Paths inside ``root``, walked like the kernel walks them, every symlink on the way kept."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def host(self, path):
        return path if self.root == '/' else self.root + path

    def walk(self, path):
        """Return ``(physical path, [(symlink path, link text), ...])``, or ``None`` if missing."""
        done, links, todo = '/', [], _components(path)
        while todo:
            part = todo.pop()
            if part == '..':
                if done == '/':
                    raise ElfError('%s: escapes the root %s through ".."' % (path, self.root))
                done = posixpath.dirname(done)
                continue
            here = posixpath.join(done, part)
            mode = self._lstat(here, path)
            if mode is None:
                return None
            if stat.S_ISLNK(mode):
                if len(links) >= _MAX_SYMLINKS:
                    raise ElfError('%s: symlink loop (more than %d symlinks)' % (path, _MAX_SYMLINKS))
                text = os.readlink(self.host(here))
                links.append((here, text))
                done = '/' if text.startswith('/') else done
                todo.extend(_components(text))
            else:
                done = here
        return done, links

    def _lstat(self, here, path):
        try:
            return os.lstat(self.host(here)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise ElfError('%s: cannot look at %s: %s' % (path, here, e.strerror or e))

    def is_file(self, real):
        return os.path.isfile(self.host(real))

    def head(self, real, size=256):
        try:
            with open(self.host(real), 'rb') as f:
                return f.read(size)
        except OSError as e:
            raise ElfError('%s: cannot read: %s' % (real, e.strerror or e))


def _components(path):
    """Path components as a stack (first component last), without empty and ``.`` parts."""
    return [part for part in reversed(path.split('/')) if part not in ('', '.')]


# ---- the loader's search -------------------------------------------------------------------

# Debian's multiarch triplets: ld.so's built-in directories are /lib/<t>, /usr/lib/<t>, /lib, /usr/lib.
_TRIPLETS = {
    (64, '<', 62): 'x86_64-linux-gnu',
    (32, '<', 3): 'i386-linux-gnu',
    (64, '<', 183): 'aarch64-linux-gnu',
}
_DST = re.compile(r'\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))')


def default_dirs(identity):
    """ld.so's built-in search directories for programs of ``identity`` (Debian layout).

    Empty for a machine not in the table: such a library must come from a path list or the cache.
    """
    triplet = _TRIPLETS.get(identity)
    return ('/lib/' + triplet, '/usr/lib/' + triplet, '/lib', '/usr/lib') if triplet else ()


@dataclass
class _Object:
    """An object loaded for one program: where ld.so opened it and who made it load."""

    path: str  # as opened, not normalised: $ORIGIN comes from it
    real: str
    info: ElfInfo
    loader: _Object | None = None
    origin: str = ''

    def __post_init__(self):
        self.origin = self.origin or posixpath.dirname(self.path)


@dataclass
class _Hit:
    path: str
    real: str
    links: list


def _expand(text, obj, what):
    """``text`` with $ORIGIN replaced by ``obj``'s directory; $LIB and $PLATFORM refused."""
    def replace(match):
        name = match.group(1) or match.group(2)
        if name != 'ORIGIN':
            raise ElfError('%s: %s uses $%s, whose value depends on the loader build and the CPU; not supported'
                           % (obj.path, what, name))
        return obj.origin
    return _DST.sub(replace, text)


def _dirs(obj, tag):
    """The expanded directories of ``obj``'s DT_RPATH or DT_RUNPATH."""
    text = obj.info.rpath if tag == 'RPATH' else obj.info.runpath
    if not text:
        return []  # absent, or empty: ld.so ignores an empty list ("Ignore empty rpaths")
    dirs = []
    for item in text.split(':'):
        path = _expand(item, obj, 'DT_' + tag)
        if not path.startswith('/'):
            raise ElfError('%s: DT_%s entry %r is not an absolute directory (ld.so would use the working directory)'
                           % (obj.path, tag, item))
        dirs.append(path.rstrip('/') or '/')
    return dirs


class _Resolver:
    """The plan being built for one ``resolve()`` call: shared by all its programs."""

    def __init__(self, root):
        self.tree = _Tree(root)
        self.cache = self._read_cache()
        self.cache_needed = False
        self.plan = {}
        self._infos = {}
        self._done = set()

    def _read_cache(self):
        # ld.so goes on without a cache it cannot use (missing, unreadable, damaged); so do we.
        try:
            walked = self.tree.walk(CACHE_PATH)
            return read_ld_cache(self.tree.host(walked[0])) if walked else {}
        except ElfError:
            return {}

    def take(self, real, links):
        for path, text in links:
            self.plan[path] = PlanEntry(path, 'symlink', target=text)
        self.plan[real] = PlanEntry(real, 'file', source=self.tree.host(real))

    def require(self, path, what):
        """Put ``path`` and the symlinks on its way in the plan; return its physical path."""
        if not path.startswith('/') or '\0' in path:
            raise ElfError('%s %r: not an absolute path' % (what, path))
        walked = self.tree.walk(path)
        if walked is None or not self.tree.is_file(walked[0]):
            raise ElfError('%s %s: no such file in %s' % (what, path, self.tree.root))
        self.take(*walked)
        return walked[0]

    def info(self, real):
        if real not in self._infos:
            self._infos[real] = read_elf(self.tree.host(real))
        return self._infos[real]

    def program(self, path, depth=0, what='program'):
        if depth > 5:
            raise ElfError('%s: more than 5 levels of #! interpreters' % path)
        if path in self._done:
            return
        real = self.require(path, what)
        head = self.tree.head(real)
        if elf_identity(head) is not None:
            _Process(self, path, real).run()
        elif head.startswith(b'#!'):
            self.script(path, head, depth)
        else:
            raise ElfError('%s: neither an ELF file nor a #! script' % path)
        self._done.add(path)

    def script(self, path, head, depth):
        interp, arg = _shebang(path, head)
        self.program(interp, depth + 1, 'interpreter of %s:' % path)
        if posixpath.basename(interp) == 'env':
            # env starts its own exec, but counting it keeps "#!/usr/bin/env self" from looping.
            self.program(self.env_lookup(path, arg), depth + 1, 'program run by env in %s:' % path)

    def env_lookup(self, script, name):
        if not name or name.startswith('-') or any(c.isspace() for c in name):
            raise ElfError('%s: "#!... env %s": expected one program name (env options are not supported)'
                           % (script, name))
        if '/' in name:
            return name
        for d in ENV_PATH:
            walked = self.tree.walk(posixpath.join(d, name))
            if walked and self.tree.is_file(walked[0]) and os.stat(self.tree.host(walked[0])).st_mode & 0o111:
                return posixpath.join(d, name)
        raise ElfError('%s: program %s (run by env) not found in %s' % (script, name, ':'.join(ENV_PATH)))

    def try_file(self, path, want, skipped):
        """A ``_Hit`` when ``path`` is a file of identity ``want``; else ``None``, noting misfits."""
        walked = self.tree.walk(path)
        if walked is None or not self.tree.is_file(walked[0]):
            return None
        identity = elf_identity(self.tree.head(walked[0], 20))
        if identity != want:
            skipped.append('%s (%s)' % (path, describe(identity)))
            return None
        return _Hit(path, walked[0], walked[1])


# The PATH env searches in "#!/usr/bin/env name": fixed, since the image's own PATH is not known.
ENV_PATH = ('/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin')


def _shebang(path, head):
    """``(interpreter, argument or '')`` from a ``#!`` line, read like Linux reads it."""
    line = head[2:].split(b'\n', 1)
    if len(line) == 1 and len(head) >= 256:
        raise ElfError('%s: #! line longer than 256 bytes' % path)
    # Only spaces and tabs separate: a "\r" from DOS line ends stays part of the name, as in Linux.
    text = os.fsdecode(line[0].split(b'\0', 1)[0]).strip(' \t')
    words = re.split(r'[ \t]+', text, maxsplit=1)
    if not words[0].startswith('/'):
        raise ElfError('%s: #! line without an absolute interpreter path' % path)
    return words[0], words[1] if len(words) > 1 else ''


class _Process:
    """One program's load, as ld.so does it: names already loaded, objects breadth first."""

    def __init__(self, resolver, path, real):
        self.resolver, self.path = resolver, path
        # The program's $ORIGIN has its symlinks resolved: ld.so reads it from /proc/self/exe.
        self.main = _Object(path, real, resolver.info(real), origin=posixpath.dirname(real))
        self.want = self.main.info.identity
        self.names = {}  # a needed name, soname or path -> the object loaded for it
        self.by_real = {real: self.main}
        self._name(self.main.info.soname, self.main)

    def _name(self, name, obj):
        if name:
            self.names.setdefault(name, obj)

    def run(self):
        if self.main.info.interp is not None:
            self._interpreter(self.main.info.interp)
        queue = collections.deque([self.main])
        while queue:
            obj = queue.popleft()
            for name in obj.info.needed:
                if name not in self.names:
                    lib = self._load(name, obj)
                    if lib is not None:
                        queue.append(lib)

    def _interpreter(self, interp):
        real = self.resolver.require(interp, 'interpreter of %s:' % self.path)
        info = self.resolver.info(real)
        if info.identity != self.want:
            raise ElfError('%s: interpreter %s is %s, the program is %s'
                           % (self.path, interp, describe(info.identity), describe(self.want)))
        rtld = _Object(interp, real, info)
        self.by_real[real] = rtld
        self._name(interp, rtld)
        self._name(info.soname, rtld)

    def _load(self, name, obj):
        """Find ``name`` for ``obj``; return the new object, or ``None`` if the file was loaded."""
        hit = self._find(name, obj)
        self.resolver.take(hit.real, hit.links)
        lib = self.by_real.get(hit.real)
        new = lib is None
        if new:
            lib = _Object(hit.path, hit.real, self.resolver.info(hit.real), loader=obj)
            self.by_real[hit.real] = lib
            self._name(hit.path, lib)
            self._name(lib.info.soname, lib)
        self.names[name] = lib
        return lib if new else None

    def _find(self, name, obj):
        searched, skipped = [], []
        for path, from_cache in self._candidates(name, obj, searched):
            hit = self.resolver.try_file(path, self.want, skipped)
            if hit is not None:
                if from_cache:
                    self._note_cache_use(name, obj, hit)
                return hit
        notes = ['; skipped, not %s: %s' % (describe(self.want), ', '.join(skipped))] if skipped else []
        if not default_dirs(self.want):
            notes.append('; no built-in directories are known for %s programs' % describe(self.want))
        raise ElfError('%s: library %s needed by %s not found; searched %s%s'
                       % (self.path, name, obj.path, ', '.join(dict.fromkeys(searched)) or 'nothing', ''.join(notes)))

    def _candidates(self, name, obj, searched):
        """Yield ``(path, from the cache?)`` in ld.so's order, noting each place in ``searched``."""
        if '/' in name:
            path = _expand(name, obj, 'DT_NEEDED')
            if not path.startswith('/'):
                raise ElfError('%s: needed library %s is a relative path (it would depend on the working directory)'
                               % (obj.path, name))
            searched.append(path)
            yield path, False
            return
        if obj.info.runpath is None:
            loader = obj
            while loader is not None:
                yield from _in_each(_dirs(loader, 'RPATH'), name, searched)
                loader = loader.loader
        yield from _in_each(_dirs(obj, 'RUNPATH'), name, searched)
        yield from self._cache_candidates(name, obj, searched)
        if not obj.info.nodeflib:
            yield from _in_each(default_dirs(self.want), name, searched)

    def _cache_candidates(self, name, obj, searched):
        searched.append(CACHE_PATH)
        for path in self.resolver.cache.get(name, ()):
            if not (obj.info.nodeflib and _in_dirs(path, default_dirs(self.want))):
                yield path, True

    def _note_cache_use(self, name, obj, hit):
        # Without the cache, the image's loader would go on to its built-in directories: when
        # those give another path (or are off for this object), the image needs the cache too.
        if not obj.info.nodeflib:
            for d in default_dirs(self.want):
                found = self.resolver.try_file(posixpath.join(d, name), self.want, [])
                if found is not None:
                    if found.path == hit.path:
                        return
                    break
        self.resolver.cache_needed = True


def _in_each(dirs, name, searched):
    for d in dirs:
        searched.append(d)
        yield posixpath.join(d, name), False


def _in_dirs(path, dirs):
    return any(path.startswith(d + '/') for d in dirs)


def resolve(programs, root='/'):
    """Return the sorted ``PlanEntry`` list an image needs so each of ``programs`` runs.

    ``programs`` are absolute paths inside ``root`` (``root='/'``: the build host); each keeps
    its own path in the image. Raises ``ElfError`` when a program's needs cannot be known.
    """
    if isinstance(programs, str):
        raise TypeError('programs is a list of paths, not one path')
    resolver = _Resolver(root)
    for path in programs:
        resolver.program(path)
    if resolver.cache_needed:
        resolver.require(CACHE_PATH, 'loader cache')
    return sorted(resolver.plan.values(), key=lambda entry: entry.path)
