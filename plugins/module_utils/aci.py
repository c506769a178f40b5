# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Streaming reader and writer of ACIs (appc image archives, spec 0.8.x).

An ACI is a tar holding exactly ``manifest`` (a regular file) and ``rootfs/...``, optionally
compressed with gzip, bzip2 or xz. Its image ID is ``sha512-`` + the hex SHA-512 of the
*uncompressed* tar. Everything here streams: memory use does not grow with the image size.

Writing is reproducible: entries are sorted, the manifest is written in canonical JSON, owner
names are left empty (only numeric IDs are stored), the gzip header carries no time or name, and
gzip output is cut into fixed 1 MiB blocks, so the same inputs give the same bytes. Files keep
their mode (setuid/setgid/sticky included), owner, mtime (whole seconds) and xattrs (as PAX
``SCHILY.xattr.*`` records; ``security.selinux`` is left out because it labels the build host,
not the image). Hard links become tar link entries, sockets are skipped with a warning.

Public API:

* ``open_source(src=None, rootfs=None, from_aci=None)`` -> a source with ``manifest`` (dict or
  ``None``), ``warnings`` and ``entries(owner_root)``: ``LayoutSource``, ``TreeSource``, ``AciSource``.
* ``Image(manifest, source, owner_root=False)``: ``chunks()`` yields the uncompressed tar.
* ``write_image(fileobj, chunks, compression='gzip', level=None)`` -> ``(image_id, tar_size)``.
* ``compare_image(path, chunks, compression, exhaustive=False)`` -> ``(same, image_id, tar_size)``.
* ``inspect_aci(path, validate=True)`` -> ``ImageInfo`` (checks the archive rules, hashes it).
* ``read_manifest(path)`` -> dict; ``image_id(path)`` -> str; ``detect_compression(path)`` -> str.
* ``open_decompressed(path)``: context manager giving ``(compression, binary stream)``.
* ``iter_entries(path)``: the ``Entry`` objects of an ACI, manifest included, in archive order.
* ``AciError``; constants ``COMPRESSIONS``, ``LEVELS``, ``HAS_ISAL``.
"""

from __future__ import annotations

import bz2
import collections
import concurrent.futures
import contextlib
import errno
import gzip
import hashlib
import lzma
import os
import queue
import stat
import struct
import tarfile
import threading
import zlib

try:
    from isal import igzip, igzip_threaded, isal_zlib
    HAS_ISAL = True
except ImportError:
    # Hosts without python-isal build with zlib: same format, slower, different (still stable) bytes.
    igzip = igzip_threaded = isal_zlib = None
    HAS_ISAL = False

from ansible_collections.aci.registry.plugins.module_utils.manifest import (
    ManifestError,
    canonical_json,
    get_annotation,
    parse_manifest,
    rfc3339_to_epoch,
    validate_manifest,
)

COMPRESSIONS = ('gzip', 'none', 'bzip2', 'xz')
# compression -> (lowest, highest, default) level
LEVELS = {'gzip': (1, 9, 6), 'bzip2': (1, 9, 9), 'xz': (0, 9, 6)}
# ISA-L has levels 0-3; gzip's 1-9 are mapped so that the default 6 gives ISA-L 2, which compresses
# within a few percent of zlib -6 at several times its speed.
_ISAL_LEVELS = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 3, 8: 3, 9: 3}
SKIPPED_XATTRS = ('security.selinux',)
# Set by write_image on the file it writes: "<image ID> <tar size> <file SHA-256> <file size>".
IDENTITY_XATTR = 'user.aci.registry.identity'

MANIFEST = 'manifest'
ROOTFS = 'rootfs'
_MAX_MANIFEST = 16 * 1024 * 1024

_BLOCK = 512
_CHUNK = 1024 * 1024  # read size, coalescing size and gzip block size
_QUEUE_CHUNKS = 8

# tar type flags, used as the entry kinds
FILE, HARDLINK, SYMLINK, CHARDEV, BLOCKDEV, DIRECTORY, FIFO = b'0', b'1', b'2', b'3', b'4', b'5', b'6'
_PAX = b'x'
_USTAR = struct.Struct('100s8s8s8s12s12s8sc100s8s32s32s8s8s155s12x')
_USTAR_MAGIC = b'ustar\x0000'
_MAX_ID = 8 ** 7  # what 7 octal digits hold (uid, gid, device numbers)
_MAX_SIZE = 8 ** 11  # what 11 octal digits hold (size, mtime)

_MAGIC = ((b'\x1f\x8b', 'gzip'), (b'BZh', 'bzip2'), (b'\xfd7zXZ\x00', 'xz'))


class AciError(Exception):
    """A problem with an image, a tree or an archive; the message names the path concerned."""


class Entry(object):
    """One archive member. ``name`` is its path in the archive (``rootfs/...``, no trailing slash).

    File content comes from ``path`` (a file on disk), ``reader`` (a file object positioned at the
    data) or ``data`` (bytes). ``xattrs`` maps names to bytes values, or is ``None``.
    """

    __slots__ = ('name', 'kind', 'mode', 'uid', 'gid', 'mtime', 'size', 'linkname', 'devmajor', 'devminor',
                 'xattrs', 'path', 'reader', 'data')

    def __init__(self, name, kind, mode=0o644, uid=0, gid=0, mtime=0, size=0, linkname='', devmajor=0, devminor=0,
                 xattrs=None, path=None, reader=None, data=None):
        self.name = name
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.size = size
        self.linkname = linkname
        self.devmajor = devmajor
        self.devminor = devminor
        self.xattrs = xattrs
        self.path = path
        self.reader = reader
        self.data = data

    def __repr__(self):
        return 'Entry(%r, %r, mode=%o, uid=%d, gid=%d, size=%d, linkname=%r)' % (
            self.name, self.kind, self.mode, self.uid, self.gid, self.size, self.linkname)


class _Warnings(list):
    """A list of warnings that keeps each message once (sources are read more than once)."""

    def add(self, message):
        if message not in self:
            self.append(message)


# ---------------------------------------------------------------------------------------------
# tar headers


def _utf8(text, what):
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError:
        raise AciError('%s is not valid UTF-8 (%r); ACIs need UTF-8 file names' % (what, text))


def _pax_record(key, value):
    body = b' ' + key + b'=' + value + b'\n'
    digits = len(str(len(body)))
    while len(str(len(body) + digits)) != digits:
        digits += 1
    return b'%d' % (len(body) + digits) + body


def _split_name(name):
    """ustar's (prefix, name) for a path, or ``None`` when it needs a PAX ``path`` record."""
    if len(name) <= 100:
        return b'', name
    cut = name.rfind(b'/', 0, min(156, len(name) - 1))
    if cut > 0 and len(name) - cut - 1 <= 100:
        return name[:cut], name[cut + 1:]
    return None


def _ustar(name, mode, uid, gid, size, mtime, kind, linkname=b'', devmajor=0, devminor=0, prefix=b''):
    if not (devmajor < _MAX_ID and devminor < _MAX_ID):
        raise AciError('%s: device number %d,%d is too large for a tar header'
                       % (name.decode('utf-8', 'replace'), devmajor, devminor))
    header = _USTAR.pack(name, b'%07o' % mode, b'%07o' % uid, b'%07o' % gid, b'%011o' % size, b'%011o' % mtime,
                         b' ' * 8, kind, linkname, _USTAR_MAGIC, b'', b'', b'%07o' % devmajor, b'%07o' % devminor,
                         prefix)
    return header[:148] + b'%06o\x00 ' % sum(header) + header[156:]


def tar_header(entry):
    """The header block(s) of ``entry``: a PAX extended header when ustar cannot say it all."""
    name = _utf8(entry.name + '/' if entry.kind == DIRECTORY else entry.name, 'file name %s' % entry.name)
    linkname = _utf8(entry.linkname, 'link target of %s' % entry.name) if entry.linkname else b''
    if (len(name) <= 100 and len(linkname) <= 100 and not entry.xattrs and name.isascii() and linkname.isascii()
            and 0 <= entry.uid < _MAX_ID and 0 <= entry.gid < _MAX_ID and entry.size < _MAX_SIZE
            and 0 <= entry.mtime < _MAX_SIZE):
        # The common case, kept short: it runs once per file of the image.
        return _ustar(name, entry.mode & 0o7777, entry.uid, entry.gid, entry.size, entry.mtime, entry.kind,
                      linkname, entry.devmajor, entry.devminor)
    return _pax_header(entry, name, linkname)


def _pax_header(entry, name, linkname):
    pax = []
    split = _split_name(name) if name.isascii() else None
    if split is None:
        pax.append(_pax_record(b'path', name))
        split = (b'', name[:100])
    if len(linkname) > 100 or not linkname.isascii():
        pax.append(_pax_record(b'linkpath', linkname))
        linkname = linkname[:100]
    numbers = []
    for key, value, limit in ((b'uid', entry.uid, _MAX_ID), (b'gid', entry.gid, _MAX_ID),
                              (b'size', entry.size, _MAX_SIZE), (b'mtime', entry.mtime, _MAX_SIZE)):
        if 0 <= value < limit:
            numbers.append(value)
        else:
            pax.append(_pax_record(key, b'%d' % value))
            numbers.append(0)
    for key in sorted(entry.xattrs or ()):
        pax.append(_pax_record(b'SCHILY.xattr.' + _utf8(key, 'xattr name on %s' % entry.name), entry.xattrs[key]))
    header = _ustar(split[1], entry.mode & 0o7777, numbers[0], numbers[1], numbers[2], numbers[3], entry.kind,
                    linkname, entry.devmajor, entry.devminor, split[0])
    if not pax:
        return header
    records = b''.join(pax)
    return (_ustar(b'././@PaxHeader', 0o644, 0, 0, len(records), 0, _PAX) + records + _padding(len(records))
            + header)


def _padding(size):
    return b'\x00' * (-size % _BLOCK)


# ---------------------------------------------------------------------------------------------
# Sources of entries


def _os_error(e, what):
    return AciError('%s: %s' % (what, e.strerror or e))


def _read_xattrs(path, name):
    try:
        keys = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            return None
        raise _os_error(e, 'cannot list the xattrs of %s' % name)
    values = {}
    for key in sorted(keys):
        if key in SKIPPED_XATTRS:
            continue
        try:
            values[key] = os.getxattr(path, key, follow_symlinks=False)
        except OSError as e:
            if e.errno != errno.ENODATA:  # removed since listed: nothing to keep
                raise _os_error(e, 'cannot read xattr %s of %s' % (key, name))
    return values or None


class TreeSource(object):
    """A root filesystem directory on disk: ``rootfs`` and everything below it."""

    manifest = None

    def __init__(self, rootfs):
        self.warnings = _Warnings()
        if not os.path.isdir(rootfs):
            raise AciError('%s is not a directory; the rootfs must be a directory holding the image files' % rootfs)
        # A symlinked rootfs is followed once, here: below it nothing is followed.
        self.rootfs = os.path.realpath(rootfs)

    def entries(self, owner_root=False):
        """Yields the ``rootfs`` entry, then every file below it, sorted by name, depth first."""
        links = {}
        try:
            top = os.stat(self.rootfs)
        except OSError as e:
            raise _os_error(e, 'cannot read %s' % self.rootfs)
        yield self._entry(ROOTFS, self.rootfs, top, owner_root, links)
        stack = [(self.rootfs, ROOTFS + '/', iter(self._names(self.rootfs, ROOTFS)))]
        while stack:
            directory, prefix, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            path = directory + '/' + name
            arcname = prefix + name
            try:
                st = os.lstat(path)
            except OSError as e:
                raise _os_error(e, 'cannot read %s (did it vanish while archiving?)' % arcname)
            entry = self._entry(arcname, path, st, owner_root, links)
            if entry is None:
                continue
            yield entry
            if entry.kind == DIRECTORY:
                stack.append((path, arcname + '/', iter(self._names(path, arcname))))

    @staticmethod
    def _names(path, arcname):
        try:
            names = os.listdir(path)
        except OSError as e:
            raise _os_error(e, 'cannot list %s' % arcname)
        for name in names:
            _utf8(name, 'file name %s/%s' % (arcname, name))
        return sorted(names)

    def _entry(self, arcname, path, st, owner_root, links):
        mode = st.st_mode
        entry = Entry(arcname, None, stat.S_IMODE(mode), 0 if owner_root else st.st_uid, 0 if owner_root else st.st_gid,
                      st.st_mtime_ns // 1000000000)
        if stat.S_ISDIR(mode):
            entry.kind = DIRECTORY
        elif stat.S_ISSOCK(mode):
            self.warnings.add('%s: socket skipped (sockets cannot be stored in an image)' % arcname)
            return None
        elif st.st_nlink > 1 and (st.st_dev, st.st_ino) in links:
            entry.kind, entry.linkname = HARDLINK, links[(st.st_dev, st.st_ino)]
            return entry  # a link carries no data or metadata of its own
        elif stat.S_ISREG(mode):
            entry.kind, entry.size, entry.path = FILE, st.st_size, path
        elif stat.S_ISLNK(mode):
            try:
                target = os.readlink(path)
            except OSError as e:
                raise _os_error(e, 'cannot read symlink %s' % arcname)
            _utf8(target, 'symlink target of %s' % arcname)
            entry.kind, entry.linkname = SYMLINK, target
        elif stat.S_ISFIFO(mode):
            entry.kind = FIFO
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            entry.kind = CHARDEV if stat.S_ISCHR(mode) else BLOCKDEV
            entry.devmajor, entry.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        else:
            self.warnings.add('%s: skipped, unknown file type %o' % (arcname, stat.S_IFMT(mode)))
            return None
        if st.st_nlink > 1 and entry.kind != DIRECTORY:
            links[(st.st_dev, st.st_ino)] = arcname
        entry.xattrs = _read_xattrs(path, arcname)
        return entry


class LayoutSource(TreeSource):
    """An image layout directory: ``manifest`` (JSON) and ``rootfs/``, nothing else."""

    def __init__(self, src):
        if not os.path.isdir(src):
            raise AciError('src %s is not a directory; it must hold "manifest" and "rootfs/"' % src)
        extra = sorted(set(os.listdir(src)) - set((MANIFEST, ROOTFS)))
        if extra:
            raise AciError('src %s may hold only "manifest" and "rootfs"; also found: %s'
                           % (src, ', '.join(extra)))
        manifest_path = os.path.join(src, MANIFEST)
        if not os.path.isfile(manifest_path):
            raise AciError('src %s has no "manifest" file' % src)
        if not os.path.isdir(os.path.join(src, ROOTFS)):
            raise AciError('src %s has no "rootfs" directory' % src)
        super(LayoutSource, self).__init__(os.path.join(src, ROOTFS))
        with open(manifest_path, 'rb') as f:
            self.manifest = parse_manifest(f.read(_MAX_MANIFEST + 1), manifest_path)


class AciSource(object):
    """An existing ACI whose rootfs is copied as it is (its manifest is replaced)."""

    def __init__(self, path):
        self.path = path
        self.info = inspect_aci(path, validate=False)
        self.manifest = self.info.manifest
        self.warnings = _Warnings()

    def entries(self, owner_root=False):
        if not self.info.has_rootfs_entry:
            yield Entry(ROOTFS, DIRECTORY, 0o755)
        for entry in iter_entries(self.path):
            if entry.name == MANIFEST:
                continue
            if owner_root:
                entry.uid = entry.gid = 0
            yield entry


def open_source(src=None, rootfs=None, from_aci=None):
    """The source for exactly one of ``src`` (layout dir), ``rootfs`` (dir) or ``from_aci`` (image)."""
    if sum(x is not None for x in (src, rootfs, from_aci)) != 1:
        raise AciError('give exactly one of src, rootfs and from_aci')
    if src is not None:
        return LayoutSource(src)
    if rootfs is not None:
        return TreeSource(rootfs)
    return AciSource(from_aci)


# ---------------------------------------------------------------------------------------------
# The tar stream


def _file_pieces(entry):
    """The ``entry.size`` bytes of a file entry, in pieces of at most ``_CHUNK``."""
    if entry.data is not None:
        if len(entry.data) != entry.size:
            raise AciError('%s: data does not match its size' % entry.name)
        yield entry.data
    elif entry.reader is not None:
        remaining = entry.size
        while remaining:
            piece = entry.reader.read(min(remaining, _CHUNK))
            if not piece:
                raise AciError('%s: the archive ends inside this file' % entry.name)
            remaining -= len(piece)
            yield piece
    else:
        yield from _disk_file_pieces(entry)


def _disk_file_pieces(entry):
    # Plain descriptors, not file objects, and one read more than the size: this runs for every
    # file of the image, and that last read is what tells a file that grew.
    try:
        fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise _os_error(e, 'cannot read %s' % entry.name)
    try:
        remaining = entry.size
        while True:
            wanted = remaining + 1 if remaining < _CHUNK else _CHUNK
            piece = os.read(fd, wanted)
            if len(piece) > remaining:
                raise AciError('%s grew while being archived; build again once it is stable' % entry.name)
            if not piece:
                if remaining:
                    raise AciError('%s shrank while being archived; build again once it is stable' % entry.name)
                return
            remaining -= len(piece)
            yield piece
            if not remaining and len(piece) < wanted:
                return  # asked for one byte more than was left and did not get it: the end
    except OSError as e:
        raise _os_error(e, 'cannot read %s' % entry.name)
    finally:
        os.close(fd)


def _tar_pieces(manifest_bytes, manifest_mtime, entries):
    yield tar_header(Entry(MANIFEST, FILE, 0o644, 0, 0, manifest_mtime, len(manifest_bytes)))
    yield manifest_bytes + _padding(len(manifest_bytes))
    for entry in entries:
        yield tar_header(entry)
        if entry.kind == FILE and entry.size:
            yield from _file_pieces(entry)
            yield _padding(entry.size)
    yield b'\x00' * (2 * _BLOCK)


def _coalesce(pieces, size=_CHUNK):
    """Joins small pieces so consumers see few, large chunks (cheaper hashing and compressing)."""
    pending = []
    pending_size = 0
    for piece in pieces:
        if len(piece) >= size:
            if pending:
                yield b''.join(pending)
                pending, pending_size = [], 0
            yield piece
            continue
        pending.append(piece)
        pending_size += len(piece)
        if pending_size >= size:
            yield b''.join(pending)
            pending, pending_size = [], 0
    if pending:
        yield b''.join(pending)


class Image(object):
    """The ACI that ``manifest`` (a validated dict) and ``source`` make; nothing is read until ``chunks``.

    The manifest entry's mtime is the ``created`` annotation when there is one, else 0, so that the
    same inputs always give the same tar.
    """

    def __init__(self, manifest, source, owner_root=False):
        self.manifest = manifest
        self.manifest_bytes = canonical_json(manifest)
        self.source = source
        self.owner_root = owner_root
        self.manifest_mtime = max(rfc3339_to_epoch(get_annotation(manifest, 'created')) or 0, 0)

    @property
    def warnings(self):
        return self.source.warnings

    def chunks(self):
        """A fresh iterator over the uncompressed tar, in chunks of about 1 MiB."""
        return _coalesce(_tar_pieces(self.manifest_bytes, self.manifest_mtime, self.source.entries(self.owner_root)))


# ---------------------------------------------------------------------------------------------
# Compression


def compression_threads():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _Blocks(object):
    """Feeds a writer in fixed-size blocks, so block-wise compressors give the same bytes for the same stream."""

    def __init__(self, raw, size=_CHUNK):
        self.raw = raw
        self.size = size
        self.pending = []
        self.pending_size = 0

    def write(self, data):
        if not self.pending and len(data) == self.size:
            self.raw.write(data)
            return
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size < self.size:
            return
        joined = b''.join(self.pending)
        view = memoryview(joined)  # blocks are handed over as views: no copy per block
        start = 0
        while len(joined) - start >= self.size:
            self.raw.write(view[start:start + self.size])
            start += self.size
        rest = joined[start:]
        self.pending = [rest] if rest else []
        self.pending_size = len(rest)

    def close(self):
        if self.pending:
            self.raw.write(b''.join(self.pending))
            self.pending = []
        self.raw.close()


class _Codec(object):
    """A file-like writer over a compressor object (bz2, lzma)."""

    def __init__(self, fileobj, compressor):
        self.fileobj = fileobj
        self.compressor = compressor

    def write(self, data):
        out = self.compressor.compress(data)
        if out:
            self.fileobj.write(out)

    def close(self):
        self.fileobj.write(self.compressor.flush())


def _deflate_block(block, zdict, level):
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=zdict) if zdict else \
        zlib.compressobj(level, zlib.DEFLATED, -15)
    # A sync flush ends the block on a byte boundary, so the blocks simply concatenate.
    return compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)


class _ParallelZlib(object):
    """gzip with zlib on every core, for hosts without python-isal (zlib lets go of the GIL).

    Like pigz: fixed-size blocks are deflated independently, each primed with the last 32 KiB of
    the block before, and written in order; the bytes do not depend on the number of threads.
    """

    def __init__(self, fileobj, level, threads):
        self.fileobj = fileobj
        self.level = level
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix='aci-deflate')
        self.pending = collections.deque()
        self.max_pending = 2 * threads
        self.previous = b''
        self.crc = 0
        self.size = 0
        # No name, no time (mtime 0), OS "unknown": nothing that differs between builds.
        fileobj.write(b'\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff')

    def write(self, block):
        zdict, self.previous = bytes(self.previous[-32768:]), block
        self.crc = zlib.crc32(block, self.crc)
        self.size += len(block)
        self.pending.append(self.pool.submit(_deflate_block, block, zdict, self.level))
        while len(self.pending) > self.max_pending:
            self.fileobj.write(self.pending.popleft().result())

    def close(self):
        try:
            while self.pending:
                self.fileobj.write(self.pending.popleft().result())
            self.fileobj.write(zlib.compressobj(self.level, zlib.DEFLATED, -15).flush())  # the final, empty block
            self.fileobj.write(struct.pack('<II', self.crc, self.size & 0xffffffff))
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _Uncompressed(object):
    def __init__(self, fileobj):
        self.write = fileobj.write

    def close(self):
        pass


class _Background(object):
    """Runs a single-threaded writer on its own thread, so compressing overlaps reading and hashing."""

    def __init__(self, inner):
        self.inner = inner
        self.queue = queue.Queue(_QUEUE_CHUNKS)
        self.error = None
        self.thread = threading.Thread(target=self._run, name='aci-compress')
        self.thread.daemon = True
        self.thread.start()

    def _run(self):
        while True:
            data = self.queue.get()
            if data is None:
                return
            if self.error is None:
                try:
                    self.inner.write(data)
                except Exception as e:  # pylint: disable=broad-except
                    self.error = e  # handed to the producer on its next write or close

    def write(self, data):
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def close(self):
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        self.inner.close()


def _compressor(fileobj, compression, level):
    if compression == 'none':
        return _Uncompressed(fileobj)
    if compression == 'gzip':
        if HAS_ISAL:
            return _Blocks(igzip_threaded.open(fileobj, 'wb', compresslevel=_ISAL_LEVELS[level],
                                               threads=compression_threads(), block_size=_CHUNK))
        return _Blocks(_ParallelZlib(fileobj, level, compression_threads()))
    if compression == 'bzip2':
        return _Background(_Codec(fileobj, bz2.BZ2Compressor(level)))
    if compression == 'xz':
        return _Background(_Codec(fileobj, lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=level)))
    raise AciError('unknown compression %r; allowed: %s' % (compression, ', '.join(COMPRESSIONS)))


def check_level(compression, level):
    """The level to use: ``level`` or the compression's default; raises ``AciError`` when out of range."""
    if compression == 'none':
        return None
    low, high, default = LEVELS[compression]
    if level is None:
        return default
    if not low <= level <= high:
        raise AciError('compression_level %d is not allowed for %s; use %d to %d' % (level, compression, low, high))
    return level


class _Digest(object):
    """SHA-512 and length of a stream, hashed on a thread of its own: hashlib lets go of the GIL,
    so hashing runs beside building the tar instead of after it."""

    def __init__(self):
        self.hasher = hashlib.sha512()
        self.size = 0
        self.queue = queue.Queue(_QUEUE_CHUNKS)
        self.thread = threading.Thread(target=self._run, name='aci-sha512')
        self.thread.daemon = True
        self.thread.start()

    def _run(self):
        for chunk in iter(self.queue.get, None):
            self.hasher.update(chunk)

    def update(self, chunk):
        self.size += len(chunk)
        self.queue.put(chunk)

    def finish(self):
        """``(image_id, size)`` of everything given to ``update``."""
        self.queue.put(None)
        self.thread.join()
        return 'sha512-' + self.hasher.hexdigest(), self.size


class _FileDigest(object):
    """SHA-256 and size of the bytes of a file as they are written or read through it."""

    def __init__(self, fileobj):
        self.fileobj = fileobj
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.hasher.update(data)
        self.size += len(data)
        return self.fileobj.write(data)

    def read(self, size=-1):
        data = self.fileobj.read(size)
        self.hasher.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer):
        count = self.fileobj.readinto(buffer)
        self.hasher.update(memoryview(buffer)[:count])
        self.size += count
        return count

    def flush(self):
        self.fileobj.flush()

    def drain(self):
        while self.read(_CHUNK):
            pass

    def matches(self, recorded):
        return (self.hasher.hexdigest(), self.size) == (recorded[2], recorded[3])


def _record_identity(fileobj, image_id, tar_size, written):
    """Records the image ID on the file written, bound to its exact bytes; see ``compare_image``."""
    value = '%s %d %s %d' % (image_id, tar_size, written.hasher.hexdigest(), written.size)
    try:
        os.setxattr(fileobj.fileno(), IDENTITY_XATTR, value.encode('ascii'))
    except (AttributeError, OSError, ValueError):
        pass  # no file descriptor or no user xattrs here: compare_image then hashes instead


def recorded_identity(path):
    """``(image_id, tar_size, file_sha256, file_size)`` that write_image recorded on ``path``, or ``None``.

    Only a claim: ``compare_image`` trusts it after checking the file's bytes against it.
    """
    try:
        image_id, tar_size, file_sha256, file_size = os.getxattr(path, IDENTITY_XATTR).decode('ascii').split(' ')
        if len(image_id) == 135 and image_id.startswith('sha512-') and len(file_sha256) == 64:
            return image_id, int(tar_size), file_sha256, int(file_size)
    except (OSError, ValueError):
        pass
    return None


def write_image(fileobj, chunks, compression='gzip', level=None):
    """Compresses the tar ``chunks`` into ``fileobj``; returns ``(image_id, tar_size)``.

    The image ID is hashed from the chunks as they stream past, so it is the ID of exactly the
    bytes written. When ``fileobj`` is a file that takes user xattrs, the ID is also recorded on it
    (``IDENTITY_XATTR``) with the SHA-256 of the compressed bytes, so that ``compare_image`` can
    tell the ID of an unchanged image without hashing its tar again. ``fileobj`` is not closed.
    """
    written = _FileDigest(fileobj)
    sink = _compressor(written, compression, check_level(compression, level))
    digest = _Digest()
    try:
        for chunk in chunks:
            digest.update(chunk)
            sink.write(chunk)
    except BaseException:
        with contextlib.suppress(Exception):
            sink.close()  # stops the worker threads; the caller discards the partial output
        digest.finish()
        raise
    sink.close()
    image_id, tar_size = digest.finish()
    _record_identity(fileobj, image_id, tar_size, written)
    return image_id, tar_size


# ---------------------------------------------------------------------------------------------
# Reading


def detect_compression(path):
    """``gzip``, ``bzip2``, ``xz`` or ``none`` (a plain tar) by content; ``None`` if absent or neither."""
    try:
        with open(path, 'rb') as f:
            head = f.read(_BLOCK)
    except (FileNotFoundError, IsADirectoryError):
        return None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[257:262] == b'ustar':
        return 'none'
    return None


@contextlib.contextmanager
def open_decompressed(path):
    """Yields ``(compression, stream)``: the uncompressed tar of the image at ``path``."""
    compression = detect_compression(path)
    if compression is None:
        if not os.path.exists(path):
            raise AciError('%s does not exist' % path)
        raise AciError('%s is not an ACI: neither a tar nor gzip, bzip2 or xz compressed' % path)
    with _open_stream(path, compression) as stream:
        yield compression, stream


def _open_stream(source, compression, threaded=True):
    """The uncompressed stream of ``source``, a path or a binary file object."""
    if compression == 'gzip':
        if HAS_ISAL:
            # ISA-L inflates several times faster than zlib; threaded, it does so on a thread of its own.
            return igzip_threaded.open(source, 'rb', threads=1) if threaded else igzip.open(source, 'rb')
        return gzip.open(source, 'rb')
    if compression == 'bzip2':
        return bz2.open(source, 'rb')
    if compression == 'xz':
        return lzma.open(source, 'rb')
    return open(source, 'rb') if isinstance(source, (str, bytes)) else contextlib.nullcontext(source)


# What a damaged compressed file raises while being read.
_READ_ERRORS = (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) + ((isal_zlib.error,) if HAS_ISAL else ())


class _ReadAhead(object):
    """Reads a stream on a thread of its own, a few blocks ahead, so decompressing the existing
    image overlaps with reading and hashing the new one."""

    def __init__(self, stream):
        self.stream = stream
        self.queue = queue.Queue(_QUEUE_CHUNKS)
        self.stopping = False
        self.block = b''
        self.offset = 0
        self.thread = threading.Thread(target=self._run, name='aci-read-ahead')
        self.thread.daemon = True
        self.thread.start()

    def _run(self):
        block = None
        try:
            while block != b'' and not self.stopping:
                try:
                    block = self.stream.read(_CHUNK)
                except _READ_ERRORS:
                    block = b''  # a damaged file just ends early: it then differs
                self.queue.put(block)
        finally:
            if block != b'':
                self.queue.put(b'')  # whatever stopped us, the reader must not wait forever

    def _fill(self):
        if self.offset == len(self.block):
            self.block = self.queue.get() if self.block is not None else None
            self.offset = 0
            if not self.block:
                self.block = None
        return self.block is not None

    def matches(self, chunk):
        """Consumes ``len(chunk)`` bytes; true when they equal ``chunk``."""
        position = 0
        while position < len(chunk):
            if not self._fill():
                return False
            take = min(len(chunk) - position, len(self.block) - self.offset)
            # startswith with a memoryview compares in place: slicing would copy megabytes per chunk.
            if not chunk.startswith(memoryview(self.block)[self.offset:self.offset + take], position):
                return False
            position += take
            self.offset += take
        return True

    def at_end(self):
        return not self._fill()

    def close(self):
        self.stopping = True
        while self.thread.is_alive():
            try:
                self.queue.get(timeout=0.1)
            except queue.Empty:
                pass
        self.thread.join()


class _Size(object):
    """Counts the tar's bytes where hashing them is not needed."""

    def __init__(self):
        self.size = 0

    def update(self, chunk):
        self.size += len(chunk)

    def finish(self):
        return None, self.size


def compare_image(path, chunks, compression, exhaustive=False):
    """Compares the tar ``chunks`` with the uncompressed content of the existing file ``path``.

    Returns ``(same, image_id, tar_size)``. ``same`` is true only when ``path`` is compressed with
    ``compression`` and decompresses to exactly these bytes (the compression level is not
    compared). The comparison stops at the first difference unless ``exhaustive``; ``image_id``
    and ``tar_size`` are ``None`` when it stopped early. The chunks are fully read (so tree errors
    surface) whenever the result is ``same`` or ``exhaustive``.

    The existing file is always decompressed and compared in full. Its image ID is normally the
    SHA-512 of the chunks; but when ``path`` carries the identity ``write_image`` recorded and the
    comparison is not exhaustive, the chunks are not hashed: the ID is the recorded one, used only
    if the file's SHA-256 and size (read while decompressing) match the record, which ties it to
    these very bytes (a file rewritten in place keeps its xattrs, not its SHA-256).
    """
    comparable = detect_compression(path) == compression
    recorded = recorded_identity(path) if comparable and not exhaustive else None
    digest = _Size() if recorded else _Digest()
    with contextlib.ExitStack() as stack:
        stack.callback(digest.finish)  # stops its thread on every way out
        existing = raw = None
        if comparable:
            try:
                raw = _FileDigest(stack.enter_context(open(path, 'rb')))
                existing = _ReadAhead(stack.enter_context(_open_stream(raw, compression, threaded=False)))
            except _READ_ERRORS:
                existing = None
            else:
                stack.callback(existing.close)
        same = existing is not None
        for chunk in chunks:
            digest.update(chunk)
            if same and not existing.matches(chunk):
                same = False
                if not exhaustive:
                    if hasattr(chunks, 'close'):
                        chunks.close()  # closes the file being read now
                    return False, None, None
        if same:
            same = existing.at_end()  # and nothing more in the existing file
        tar_id, size = digest.finish()
        if recorded and same:
            existing.close()  # the read-ahead thread is done with ``raw``
            raw.drain()
            tar_id = recorded[0] if raw.matches(recorded) and size == recorded[1] else None
    if same and tar_id is None:
        tar_id = image_id(path)  # the record does not fit these bytes: hash them
    return same, tar_id, size


class _Hashing(object):
    """A read-only stream that hashes what passes through it."""

    def __init__(self, stream):
        self.stream = stream
        self.hasher = hashlib.sha512()
        self.size = 0

    def read(self, size=-1):
        data = self.stream.read(size)
        self.hasher.update(data)
        self.size += len(data)
        return data

    def drain(self):
        while self.read(_CHUNK):
            pass
        return 'sha512-' + self.hasher.hexdigest()


def _archive_name(raw):
    """The normalised name of a member (``None`` for the archive root); raises on a forbidden one."""
    if raw.startswith('/'):
        raise AciError('entry %r has an absolute path; ACI entries are relative ("manifest", "rootfs/...")' % raw)
    parts = [p for p in raw.split('/') if p not in ('', '.')]
    if '..' in parts:
        raise AciError('entry %r contains ".."; ACI entries must stay inside the image' % raw)
    if not parts:
        return None
    if parts[0] not in (MANIFEST, ROOTFS) or (parts[0] == MANIFEST and len(parts) > 1):
        raise AciError('entry %r is outside rootfs; an ACI holds only "manifest" and "rootfs/..."' % raw)
    return '/'.join(parts)


_KINDS = {tarfile.REGTYPE: FILE, tarfile.AREGTYPE: FILE, tarfile.CONTTYPE: FILE, tarfile.GNUTYPE_SPARSE: FILE,
          tarfile.LNKTYPE: HARDLINK, tarfile.SYMTYPE: SYMLINK, tarfile.CHRTYPE: CHARDEV, tarfile.BLKTYPE: BLOCKDEV,
          tarfile.DIRTYPE: DIRECTORY, tarfile.FIFOTYPE: FIFO}
_XATTR_PREFIX = 'SCHILY.xattr.'


def _entry_from_member(member, archive):
    name = _archive_name(member.name)
    if name is None:
        return None
    kind = _KINDS.get(member.type)
    if kind is None:
        raise AciError('entry %r has tar type %r, which an ACI cannot hold' % (member.name, member.type))
    entry = Entry(name, kind, member.mode & 0o7777, member.uid, member.gid, int(member.mtime // 1),
                  member.size if kind == FILE else 0, member.linkname,
                  member.devmajor if kind in (CHARDEV, BLOCKDEV) else 0,
                  member.devminor if kind in (CHARDEV, BLOCKDEV) else 0)
    if kind == HARDLINK:
        entry.linkname = _archive_name(member.linkname) or ''
    xattrs = dict((k[len(_XATTR_PREFIX):], v.encode('utf-8', 'surrogateescape'))
                  for k, v in member.pax_headers.items() if k.startswith(_XATTR_PREFIX))
    entry.xattrs = xattrs or None
    if kind == FILE:
        entry.reader = archive.extractfile(member)
    return entry


def _iter_members(stream, path):
    try:
        archive = tarfile.open(fileobj=stream, mode='r|')
        while True:
            member = archive.next()
            if member is None:
                return
            # The stream-mode TarFile keeps every member it has seen; an image has many.
            del archive.members[:]
            entry = _entry_from_member(member, archive)
            if entry is not None:
                yield entry
    except tarfile.TarError as e:
        raise AciError('%s is not a readable tar: %s' % (path, e))
    except _READ_ERRORS as e:
        raise AciError('%s is damaged: %s' % (path, e))


def iter_entries(path):
    """Yields the ``Entry`` objects of the ACI at ``path`` in archive order, ``manifest`` included.

    A file entry's ``reader`` is valid until the next entry is asked for. Names are normalised
    (no ``./``, no trailing ``/``); a name outside ``manifest``/``rootfs`` raises ``AciError``.
    """
    with open_decompressed(path) as (dummy, stream):
        yield from _iter_members(stream, path)


class ImageInfo(object):
    """What ``inspect_aci`` found: ``compression``, ``image_id``, ``tar_size``, ``manifest`` (dict),
    ``manifest_bytes``, ``has_rootfs_entry``, ``entries`` (count) and ``warnings``."""

    def __init__(self, **kwargs):
        self.compression = kwargs.get('compression')
        self.image_id = kwargs.get('image_id')
        self.tar_size = kwargs.get('tar_size')
        self.manifest = kwargs.get('manifest')
        self.manifest_bytes = kwargs.get('manifest_bytes')
        self.has_rootfs_entry = kwargs.get('has_rootfs_entry', False)
        self.entries = kwargs.get('entries', 0)
        self.warnings = kwargs.get('warnings', [])


def _check_entry(entry, seen):
    if entry.name in seen:
        raise AciError('entry %r appears twice; an ACI has no duplicate entries' % entry.name)
    if entry.name == MANIFEST and entry.kind != FILE:
        raise AciError('"manifest" must be a regular file')
    if entry.name == ROOTFS and entry.kind != DIRECTORY:
        raise AciError('"rootfs" must be a directory')
    if entry.kind == HARDLINK and (not entry.linkname.startswith(ROOTFS + '/') or entry.linkname not in seen):
        raise AciError('hard link %r points to %r, which is not an earlier file in rootfs' % (entry.name, entry.linkname))
    seen.add(entry.name)


def inspect_aci(path, validate=True):
    """Reads the whole ACI at ``path`` once and returns an ``ImageInfo``.

    Checks the archive rules (only ``manifest`` and ``rootfs/...``, no absolute or ``..`` paths,
    no duplicates, hard links to earlier rootfs files), parses the manifest and, when
    ``validate``, checks it with ``validate_manifest`` (raising ``ManifestError``); computes the
    image ID. Raises ``AciError`` for anything wrong with the archive.
    """
    seen = set()
    manifest_bytes = None
    with open_decompressed(path) as (compression, stream):
        hashing = _Hashing(stream)
        for entry in _iter_members(hashing, path):
            _check_entry(entry, seen)
            if entry.name == MANIFEST:
                if entry.size > _MAX_MANIFEST:
                    raise AciError('%s: manifest is %d bytes; a manifest is small JSON' % (path, entry.size))
                manifest_bytes = entry.reader.read()
        image_id = hashing.drain()
    if manifest_bytes is None:
        raise AciError('%s has no manifest entry' % path)
    manifest = parse_manifest(manifest_bytes, '%s:manifest' % path)
    warnings = validate_manifest(manifest, '%s:manifest' % path) if validate else []
    return ImageInfo(compression=compression, image_id=image_id, tar_size=hashing.size, manifest=manifest,
                     manifest_bytes=manifest_bytes, has_rootfs_entry=ROOTFS in seen, entries=len(seen),
                     warnings=warnings)


def read_manifest(path):
    """The manifest (dict, not validated) of the ACI at ``path``; reads only up to the manifest entry."""
    for entry in iter_entries(path):
        if entry.name == MANIFEST:
            return parse_manifest(entry.reader.read(_MAX_MANIFEST + 1), '%s:manifest' % path)
    raise AciError('%s has no manifest entry' % path)


def image_id(path):
    """The image ID (``sha512-`` + hex SHA-512 of the uncompressed tar) of the ACI at ``path``."""
    with open_decompressed(path) as (compression, stream):
        return _Hashing(stream).drain()


__all__ = ['AciError', 'AciSource', 'COMPRESSIONS', 'Entry', 'HAS_ISAL', 'Image', 'ImageInfo', 'LEVELS',
           'LayoutSource', 'ManifestError', 'TreeSource', 'check_level', 'compare_image', 'compression_threads',
           'detect_compression', 'image_id', 'inspect_aci', 'iter_entries', 'open_decompressed', 'open_source',
           'read_manifest', 'tar_header', 'write_image']
