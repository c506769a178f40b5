# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACIs (appc image archives, spec 0.8.x): the sources of their entries, the image a manifest and
a source make, and reading and checking existing images.

An ACI is a tar holding exactly ``manifest`` (a regular file) and ``rootfs/...``, optionally
compressed with gzip, bzip2 or xz. Its image ID is ``sha512-`` + the hex SHA-512 of the
*uncompressed* tar. Everything here streams: memory use does not grow with the image size.

Writing is reproducible: entries are sorted, the manifest is written in canonical JSON, and the
tar (``aci_tar``) and its compression (``aci_compress``) depend only on the entries, so the same
inputs give the same bytes. Files keep their mode (setuid/setgid/sticky included), owner, mtime
(whole seconds) and xattrs (``security.selinux`` is left out because it labels the build host,
not the image). Hard links become tar link entries, sockets are skipped with a warning.

Public API:

* ``open_source(src=None, rootfs=None, from_aci=None)`` -> a source with ``manifest`` (dict or
  ``None``), ``warnings`` and ``entries(owner_root)``: ``LayoutSource``, ``TreeSource``, ``AciSource``.
* ``Image(manifest, source, owner_root=False)``: ``chunks()`` yields the uncompressed tar.
* ``compare_image(path, chunks, compression, exhaustive=False)`` -> ``(same, image_id, tar_size)``.
* ``inspect_aci(path, validate=True)`` -> ``ImageInfo`` (checks the archive rules, hashes it).
* ``read_manifest(path)`` -> dict; ``image_id(path)`` -> str; ``detect_compression(path)`` -> str.
* ``open_decompressed(path)``: context manager giving ``(compression, binary stream)``.
* ``iter_entries(path)``: the ``Entry`` objects of an ACI, manifest included, in archive order.
* From ``streams``: ``AciError``, ``Entry`` and its kinds; from ``aci_tar``: ``ROOTFS``; from
  ``aci_compress``: ``write_image``, ``check_level``, ``recorded_identity``, ``COMPRESSIONS``,
  ``IDENTITY_XATTR``; from ``manifest``: ``ManifestError``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import stat
import tarfile
import threading

from ansible_collections.aci.registry.plugins.module_utils import aci_compress, streams
from ansible_collections.aci.registry.plugins.module_utils.aci_compress import (
    COMPRESSIONS,
    IDENTITY_XATTR,
    check_level,
    recorded_identity,
    write_image,
)
from ansible_collections.aci.registry.plugins.module_utils.aci_tar import MANIFEST, ROOTFS, os_error, tar_chunks, utf8
from ansible_collections.aci.registry.plugins.module_utils.manifest import (
    ManifestError,
    canonical_json,
    get_annotation,
    parse_manifest,
    rfc3339_to_epoch,
    validate_manifest,
)
from ansible_collections.aci.registry.plugins.module_utils.streams import (
    BLOCKDEV,
    CHARDEV,
    CHUNK,
    DIRECTORY,
    FIFO,
    FILE,
    HARDLINK,
    QUEUE_CHUNKS,
    SYMLINK,
    AciError,
    Entry,
)

SKIPPED_XATTRS = ('security.selinux',)
_MAX_MANIFEST = 16 * 1024 * 1024
_TAR_HEAD = 512  # enough to tell a compression, or the ustar magic of a plain tar


class _Warnings(list):
    """A list of warnings that keeps each message once (sources are read more than once)."""

    def add(self, message):
        if message not in self:
            self.append(message)


# ---------------------------------------------------------------------------------------------
# Sources of entries


def _read_xattrs(path, name):
    try:
        keys = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            return None
        raise os_error(e, 'cannot list the xattrs of %s' % name)
    values = {}
    for key in sorted(keys):
        if key in SKIPPED_XATTRS:
            continue
        try:
            values[key] = os.getxattr(path, key, follow_symlinks=False)
        except OSError as e:
            if e.errno != errno.ENODATA:  # removed since listed: nothing to keep
                raise os_error(e, 'cannot read xattr %s of %s' % (key, name))
    return values or None


class TreeSource:
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
            raise os_error(e, 'cannot read %s' % self.rootfs)
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
                raise os_error(e, 'cannot read %s (did it vanish while archiving?)' % arcname)
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
            raise os_error(e, 'cannot list %s' % arcname)
        for name in names:
            utf8(name, 'file name %s/%s' % (arcname, name))
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
                raise os_error(e, 'cannot read symlink %s' % arcname)
            utf8(target, 'symlink target of %s' % arcname)
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
        extra = sorted(set(os.listdir(src)) - {MANIFEST, ROOTFS})
        if extra:
            raise AciError('src %s may hold only "manifest" and "rootfs"; also found: %s'
                           % (src, ', '.join(extra)))
        manifest_path = os.path.join(src, MANIFEST)
        if not os.path.isfile(manifest_path):
            raise AciError('src %s has no "manifest" file' % src)
        if not os.path.isdir(os.path.join(src, ROOTFS)):
            raise AciError('src %s has no "rootfs" directory' % src)
        super().__init__(os.path.join(src, ROOTFS))
        with open(manifest_path, 'rb') as f:
            self.manifest = parse_manifest(f.read(_MAX_MANIFEST + 1), manifest_path)


class AciSource:
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
# The image


class Image:
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
        return tar_chunks(self.manifest_bytes, self.manifest_mtime, self.source.entries(self.owner_root))


# ---------------------------------------------------------------------------------------------
# Reading


def detect_compression(path):
    """``gzip``, ``bzip2``, ``xz`` or ``none`` (a plain tar) by content; ``None`` if absent or neither."""
    try:
        with open(path, 'rb') as f:
            head = f.read(_TAR_HEAD)
    except (FileNotFoundError, IsADirectoryError):
        return None
    compression = streams.detect(head)
    if compression is None and head[257:262] == b'ustar':
        return 'none'
    return compression if compression in COMPRESSIONS else None


@contextlib.contextmanager
def open_decompressed(path):
    """Yields ``(compression, stream)``: the uncompressed tar of the image at ``path``; a damaged
    or truncated file raises ``AciError`` when read."""
    compression = detect_compression(path)
    if compression is None:
        if not os.path.exists(path):
            raise AciError('%s does not exist' % path)
        raise AciError('%s is not an ACI: neither a tar nor gzip, bzip2 or xz compressed' % path)
    with streams.open_stream(path, compression, path, threaded=True) as stream:
        yield compression, stream


class _ReadAhead:
    """Reads a stream on a thread of its own, a few blocks ahead, so decompressing the existing
    image overlaps with reading and hashing the new one."""

    def __init__(self, stream):
        self.stream = stream
        self.queue = queue.Queue(QUEUE_CHUNKS)
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
                    block = self.stream.read(CHUNK)
                except AciError:
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


class _Size:
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
    digest = _Size() if recorded else aci_compress.Digest()
    with contextlib.ExitStack() as stack:
        stack.callback(digest.finish)  # stops its thread on every way out
        existing = raw = None
        if comparable:
            try:
                raw = aci_compress.FileDigest(stack.enter_context(open(path, 'rb')))
                existing = _ReadAhead(stack.enter_context(streams.open_stream(raw, compression, path)))
            except (AciError, OSError):
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


def _entry_from_member(member, archive, path):
    name = _archive_name(member.name)
    if name is None:
        return None
    kind = streams.member_kind(member)
    if kind is None:
        raise AciError('entry %r has tar type %r, which an ACI cannot hold' % (member.name, member.type))
    entry = Entry.from_member(member, name, kind)
    if kind == HARDLINK:
        entry.linkname = _archive_name(member.linkname) or ''
    elif kind == FILE:
        entry.reader = streams.member_data(archive, member, path)
    return entry


def _iter_members(stream, path):
    """The entries of the tar ``stream`` (a ``streams.Checked`` one: a damaged file raises ``AciError``)."""
    try:
        archive = tarfile.open(fileobj=stream, mode='r|')
        for member in streams.tar_members(archive):
            entry = _entry_from_member(member, archive, path)
            if entry is not None:
                yield entry
    except streams.TAR_ERRORS as e:
        raise streams.not_a_tar(path, e) from e


def iter_entries(path):
    """Yields the ``Entry`` objects of the ACI at ``path`` in archive order, ``manifest`` included.

    A file entry's ``reader`` is valid until the next entry is asked for. Names are normalised
    (no ``./``, no trailing ``/``); a name outside ``manifest``/``rootfs`` raises ``AciError``.
    """
    with open_decompressed(path) as (dummy, stream):
        yield from _iter_members(stream, path)


class ImageInfo:
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


class _Seen(set):
    """Entry names read so far, and which of them are symbolic links."""

    def __init__(self):
        super().__init__()
        self.symlinks = set()


def _check_entry(entry, seen):
    if entry.name in seen:
        raise AciError('entry %r appears twice; an ACI has no duplicate entries' % entry.name)
    if entry.name == MANIFEST and entry.kind != FILE:
        raise AciError('"manifest" must be a regular file')
    if entry.name == ROOTFS and entry.kind != DIRECTORY:
        raise AciError('"rootfs" must be a directory')
    if entry.kind == HARDLINK and (not entry.linkname.startswith(ROOTFS + '/') or entry.linkname not in seen):
        raise AciError('hard link %r points to %r, which is not an earlier file in rootfs' % (entry.name, entry.linkname))
    # An entry under an earlier symlink would be written wherever the link points when unpacked.
    parent = entry.name.rpartition('/')[0]
    while parent:
        if parent in seen.symlinks:
            raise AciError('entry %r goes through the symbolic link %r; an ACI must not write through links'
                           % (entry.name, parent))
        parent = parent.rpartition('/')[0]
    if entry.kind == SYMLINK:
        seen.symlinks.add(entry.name)
    seen.add(entry.name)


def inspect_aci(path, validate=True):
    """Reads the whole ACI at ``path`` once and returns an ``ImageInfo``.

    Checks the archive rules (only ``manifest`` and ``rootfs/...``, no absolute or ``..`` paths,
    no duplicates, hard links to earlier rootfs files), parses the manifest and, when
    ``validate``, checks it with ``validate_manifest`` (raising ``ManifestError``); computes the
    image ID. Raises ``AciError`` for anything wrong with the archive.
    """
    seen = _Seen()
    manifest_bytes = None
    with open_decompressed(path) as (compression, stream):
        hashing = streams.Hashing(stream)
        for entry in _iter_members(hashing, path):
            _check_entry(entry, seen)
            if entry.name == MANIFEST:
                if entry.size > _MAX_MANIFEST:
                    raise AciError('%s: manifest is %d bytes; a manifest is small JSON' % (path, entry.size))
                manifest_bytes = entry.reader.read()
        image_id = 'sha512-' + hashing.drain()
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
        return 'sha512-' + streams.Hashing(stream).drain()


__all__ = ['AciError', 'AciSource', 'COMPRESSIONS', 'DIRECTORY', 'Entry', 'FILE', 'HARDLINK', 'IDENTITY_XATTR', 'Image',
           'ImageInfo', 'LayoutSource', 'ManifestError', 'ROOTFS', 'SYMLINK', 'TreeSource', 'check_level', 'compare_image',
           'detect_compression', 'image_id', 'inspect_aci', 'iter_entries', 'open_decompressed', 'open_source',
           'read_manifest', 'recorded_identity', 'write_image']
