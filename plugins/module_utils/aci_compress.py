# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing an ACI's tar compressed, reproducibly, with its image ID hashed on the way.

gzip carries no time or name and is cut into fixed 1 MiB blocks (ISA-L on every core when
python-isal is there, else zlib on every core, pigz-style), so the bytes do not depend on the
number of threads; bzip2 and xz run on a thread of their own beside the tar being built. The
image ID and the SHA-256 of the bytes written are recorded on the file (``IDENTITY_XATTR``), so
that comparing an unchanged image later need not hash its tar again.

Public API:

* ``write_image(fileobj, chunks, compression='gzip', level=None)`` -> ``(image_id, tar_size)``.
* ``check_level(compression, level)`` -> the level to use; ``COMPRESSIONS``, ``LEVELS``.
* ``recorded_identity(path)`` -> ``(image_id, tar_size, file_sha256, file_size)`` or ``None``;
  ``IDENTITY_XATTR``.
* ``Digest`` (SHA-512 of chunks, on a thread) and ``FileDigest`` (SHA-256 of a file's bytes as
  they pass), for comparing an existing image; ``compression_threads()``.
"""

from __future__ import annotations

import bz2
import collections
import concurrent.futures
import contextlib
import hashlib
import lzma
import os
import queue
import struct
import threading
import zlib

from ansible_collections.aci.registry.plugins.module_utils import streams
from ansible_collections.aci.registry.plugins.module_utils.streams import CHUNK, QUEUE_CHUNKS, AciError

COMPRESSIONS = ('gzip', 'none', 'bzip2', 'xz')
# compression -> (lowest, highest, default) level
LEVELS = {'gzip': (1, 9, 6), 'bzip2': (1, 9, 9), 'xz': (0, 9, 6)}
# ISA-L has levels 0-3; gzip's 1-9 are mapped so that the default 6 gives ISA-L 2, which compresses
# within a few percent of zlib -6 at several times its speed.
_ISAL_LEVELS = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 3, 8: 3, 9: 3}
# Set by write_image on the file it writes: "<image ID> <tar size> <file SHA-256> <file size>".
IDENTITY_XATTR = 'user.aci.registry.identity'


def compression_threads():
    """How many threads compressing may use: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _Blocks:
    """Feeds a writer in fixed-size blocks, so block-wise compressors give the same bytes for the same stream."""

    def __init__(self, raw, size=CHUNK):
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


class _Codec:
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


class _ParallelZlib:
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


class _Uncompressed:
    def __init__(self, fileobj):
        self.write = fileobj.write

    def close(self):
        pass


class _Background:
    """Runs a single-threaded writer on its own thread, so compressing overlaps reading and hashing."""

    def __init__(self, inner):
        self.inner = inner
        self.queue = queue.Queue(QUEUE_CHUNKS)
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
        if streams.HAS_ISAL:
            return _Blocks(streams.igzip_threaded.open(fileobj, 'wb', compresslevel=_ISAL_LEVELS[level],
                                                       threads=compression_threads(), block_size=CHUNK))
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


class Digest:
    """SHA-512 and length of a stream, hashed on a thread of its own: hashlib lets go of the GIL,
    so hashing runs beside building the tar instead of after it."""

    def __init__(self):
        self.hasher = hashlib.sha512()
        self.size = 0
        self.queue = queue.Queue(QUEUE_CHUNKS)
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


class FileDigest(streams.Hashing):
    """SHA-256 and size of the bytes of a file as they are written or read through it."""

    def __init__(self, fileobj):
        super().__init__(fileobj, 'sha256')

    def write(self, data):
        self.hasher.update(data)
        self.size += len(data)
        return self.stream.write(data)

    def flush(self):
        self.stream.flush()

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
    written = FileDigest(fileobj)
    sink = _compressor(written, compression, check_level(compression, level))
    digest = Digest()
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
