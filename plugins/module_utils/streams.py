# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compressed streams and tar entry records, for ACIs and Docker layers alike.

The one place that knows the compressions by their first bytes, opens a decompressed stream
(gzip through ISA-L when python-isal is there, else zlib; bzip2; xz; zstd when the zstandard
package is there), knows what a damaged or truncated compressed stream raises while being read
and turns that into an ``AciError`` naming the file or layer, hashes what is read, and holds the
record of one tar entry.

Public API:

* ``AciError``: a problem with an image, a tree or an archive.
* ``Entry``: one tar entry; ``Entry.from_member(member, name, kind)`` reads a ``tarfile.TarInfo``.
  ``member_kind(member)`` is its kind: ``FILE``, ``HARDLINK``, ``SYMLINK``, ``CHARDEV``,
  ``BLOCKDEV``, ``DIRECTORY`` or ``FIFO`` (the tar type flags), ``None`` for the others;
  ``tar_members(archive)`` yields the members of a stream-mode ``TarFile`` without keeping them.
* ``detect(head)`` -> ``'gzip'``, ``'zstd'``, ``'bzip2'``, ``'xz'`` or ``None`` (not compressed).
* ``open_stream(source, compression, what, threaded=False)``: context manager giving the
  uncompressed stream of ``source`` (a path or a binary file object) as a ``Checked`` stream.
* ``Checked(stream, what)``: a stream whose read errors are ``AciError`` saying ``what`` is
  damaged or truncated; ``READ_ERRORS``, what such a stream raises underneath.
* ``Hashing(stream, algorithm='sha512')``: counts and hashes what is read through it.
* ``HAS_ISAL``, ``igzip_threaded`` (for writing gzip), ``zstandard``; ``CHUNK``, ``QUEUE_CHUNKS``.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import lzma
import tarfile
import zlib

try:
    from isal import igzip, igzip_threaded, isal_zlib
    HAS_ISAL = True
except ImportError:
    # Hosts without python-isal read and write gzip with zlib: same format, slower.
    igzip = igzip_threaded = isal_zlib = None
    HAS_ISAL = False

try:
    import zstandard
except ImportError:
    # Only Docker images with zstd layers need it; they get an error naming the package.
    zstandard = None

CHUNK = 1024 * 1024  # read size, coalescing size and gzip block size
QUEUE_CHUNKS = 8  # how far a reading, hashing or compressing thread may run ahead

# What a damaged or truncated compressed stream raises while being read: gzip's BadGzipFile is
# an OSError, a stream ending early an EOFError, a bad deflate block zlib.error or ISA-L's
# IsalError, a bad xz block LZMAError, a bad zstd frame ZstdError.
READ_ERRORS = ((OSError, EOFError, ValueError, zlib.error, lzma.LZMAError)
               + ((isal_zlib.error,) if isal_zlib is not None else ())
               + ((zstandard.ZstdError,) if zstandard is not None else ()))

# What tarfile raises for an archive it cannot read, beside the read errors of its stream.
TAR_ERRORS = (tarfile.TarError,)

_MAGIC = ((b'\x1f\x8b', 'gzip'), (b'\x28\xb5\x2f\xfd', 'zstd'), (b'BZh', 'bzip2'), (b'\xfd7zXZ\x00', 'xz'))

# tar type flags, used as the entry kinds
FILE, HARDLINK, SYMLINK, CHARDEV, BLOCKDEV, DIRECTORY, FIFO = b'0', b'1', b'2', b'3', b'4', b'5', b'6'
_KINDS = {tarfile.REGTYPE: FILE, tarfile.AREGTYPE: FILE, tarfile.CONTTYPE: FILE, tarfile.GNUTYPE_SPARSE: FILE,
          tarfile.LNKTYPE: HARDLINK, tarfile.SYMTYPE: SYMLINK, tarfile.CHRTYPE: CHARDEV, tarfile.BLKTYPE: BLOCKDEV,
          tarfile.DIRTYPE: DIRECTORY, tarfile.FIFOTYPE: FIFO}
_XATTR_PREFIX = 'SCHILY.xattr.'


class AciError(Exception):
    """A problem with an image, a tree or an archive; the message names the path concerned."""


# ---------------------------------------------------------------------------------------------
# Tar entries


class Entry:
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

    @classmethod
    def from_member(cls, member, name, kind, **extra):
        """The entry ``name`` of kind ``kind`` (see ``member_kind``) that ``member`` (a
        ``tarfile.TarInfo``) describes, without its data; ``extra`` goes to the constructor."""
        device = kind in (CHARDEV, BLOCKDEV)
        xattrs = {key[len(_XATTR_PREFIX):]: value.encode('utf-8', 'surrogateescape')
                  for key, value in member.pax_headers.items() if key.startswith(_XATTR_PREFIX)}
        return cls(name, kind, member.mode & 0o7777, uid=member.uid, gid=member.gid, mtime=int(member.mtime // 1),
                   size=member.size if kind == FILE else 0,
                   linkname=member.linkname if kind in (HARDLINK, SYMLINK) else '',
                   devmajor=member.devmajor if device else 0, devminor=member.devminor if device else 0,
                   xattrs=xattrs or None, **extra)

    def __repr__(self):
        return '%s(%r, %r, mode=%o, uid=%d, gid=%d, size=%d, linkname=%r)' % (
            type(self).__name__, self.name, self.kind, self.mode, self.uid, self.gid, self.size, self.linkname)


def member_kind(member):
    """The entry kind of a ``tarfile.TarInfo``, or ``None`` for a type no image holds."""
    return _KINDS.get(member.type)


def tar_members(archive):
    """Yields the members of the stream-mode ``TarFile`` ``archive`` as it reads them."""
    while True:
        member = archive.next()
        if member is None:
            return
        # A stream-mode TarFile keeps every member it has seen; an image or a layer has many.
        del archive.members[:]
        yield member


# ---------------------------------------------------------------------------------------------
# Compressed streams


def detect(head):
    """The compression whose magic bytes ``head`` (the first bytes of a stream) starts with, or ``None``."""
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def damaged(what, error):
    """The ``AciError`` for ``error`` (one of ``READ_ERRORS``) met while reading ``what``."""
    return AciError('%s is damaged or truncated: %s' % (what, str(error) or type(error).__name__))


def not_a_tar(what, error):
    """The ``AciError`` for a ``tarfile.TarError`` met while reading ``what`` as a tar."""
    return AciError('%s is not a readable tar: %s' % (what, error))


class Checked:
    """A read-only stream over ``stream`` whose read errors are ``AciError`` naming ``what``.

    By default the errors are those of reading and decompressing (``READ_ERRORS``, told by
    ``damaged``); the data of a tar member also meets tarfile's (``TAR_ERRORS``, told by ``not_a_tar``)."""

    def __init__(self, stream, what, errors=READ_ERRORS, describe=damaged):
        self.stream = stream
        self.what = what
        self.errors = errors
        self.describe = describe

    def read(self, size=-1):
        try:
            return self.stream.read(size)
        except self.errors as e:
            raise self.describe(self.what, e) from e

    def readinto(self, buffer):
        # ISA-L's gzip reader fills buffers rather than asking for bytes.
        try:
            return self.stream.readinto(buffer)
        except self.errors as e:
            raise self.describe(self.what, e) from e


def member_data(archive, member, what):
    """The data of ``member``, read later by whoever consumes the entry, outside the loop over the
    members: a tar cut short inside it raises ``AciError`` naming ``what`` there too."""
    return Checked(archive.extractfile(member), what, TAR_ERRORS, not_a_tar)


def _decompressor(source, compression, what, threaded):
    if compression == 'gzip':
        if HAS_ISAL:
            # ISA-L inflates several times faster than zlib; threaded, it does so on a thread of its own.
            return igzip_threaded.open(source, 'rb', threads=1) if threaded else igzip.open(source, 'rb')
        return gzip.open(source, 'rb')
    if compression == 'bzip2':
        return bz2.open(source, 'rb')
    if compression == 'xz':
        return lzma.open(source, 'rb')
    if compression == 'zstd':
        if zstandard is None:
            raise AciError('%s is zstd-compressed; install the Python package zstandard on the host to read it' % what)
        return zstandard.ZstdDecompressor().stream_reader(open(source, 'rb') if isinstance(source, (str, bytes)) else source)
    return open(source, 'rb') if isinstance(source, (str, bytes)) else contextlib.nullcontext(source)


@contextlib.contextmanager
def open_stream(source, compression, what, threaded=False):
    """Yields the uncompressed stream of ``source`` (a path or a binary file object), compressed
    with ``compression`` (see ``detect``; ``None`` or ``'none'``: not compressed), as a ``Checked``
    stream naming ``what``. A file object is left open; ``threaded`` inflates gzip on a thread."""
    try:
        stream = _decompressor(source, compression, what, threaded)
    except OSError as e:  # only opening a path can fail: decompressors read nothing before the first read
        raise AciError('cannot read %s: %s' % (what, e.strerror or e)) from e
    with stream as opened:
        yield Checked(opened, what)


class Hashing:
    """A read-only stream that counts, and hashes with ``algorithm``, what is read through it."""

    def __init__(self, stream, algorithm='sha512'):
        self.stream = stream
        self.algorithm = algorithm
        self.hasher = hashlib.new(algorithm)
        self.size = 0

    def read(self, size=-1):
        data = self.stream.read(size)
        self.hasher.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer):
        count = self.stream.readinto(buffer)
        self.hasher.update(memoryview(buffer)[:count])
        self.size += count
        return count

    def drain(self):
        """Reads the stream to its end; returns the hex digest of all that was read."""
        while self.read(CHUNK):
            pass
        return self.hasher.hexdigest()
