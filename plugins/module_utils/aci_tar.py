# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The uncompressed tar stream of an ACI: ``manifest``, then the entries of a source, each with
its header block(s) and data.

Headers are ustar where ustar can say it all, else PAX records (long or non-ASCII names, large
numbers, xattrs as ``SCHILY.xattr.*``); owner names are left empty, so the same entries always
give the same bytes. File data is read from disk with plain descriptors and checked against the
size the header announced.

Public API:

* ``MANIFEST``, ``ROOTFS``: the two top-level names of an ACI.
* ``tar_header(entry)`` -> bytes; ``tar_chunks(manifest_bytes, manifest_mtime, entries)``: the
  whole tar in chunks of about ``streams.CHUNK``.
* ``utf8(text, what)`` -> bytes and ``os_error(error, what)`` -> ``AciError``: names that must be
  UTF-8, files that cannot be read.
"""

from __future__ import annotations

import os
import struct

from ansible_collections.aci.registry.plugins.module_utils.streams import (
    CHUNK,
    DIRECTORY,
    FILE,
    AciError,
    Entry,
)

MANIFEST = 'manifest'
ROOTFS = 'rootfs'

_BLOCK = 512
_PAX = b'x'
_USTAR = struct.Struct('100s8s8s8s12s12s8sc100s8s32s32s8s8s155s12x')
_USTAR_MAGIC = b'ustar\x0000'
_MAX_ID = 8 ** 7  # what 7 octal digits hold (uid, gid, device numbers)
_MAX_SIZE = 8 ** 11  # what 11 octal digits hold (size, mtime)


def utf8(text, what):
    """``text`` as UTF-8; raises ``AciError`` naming ``what`` when it cannot be."""
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError:
        raise AciError('%s is not valid UTF-8 (%r); ACIs need UTF-8 file names' % (what, text))


def os_error(e, what):
    """The ``AciError`` for ``OSError`` ``e`` met while doing ``what``."""
    return AciError('%s: %s' % (what, e.strerror or e))


# ---------------------------------------------------------------------------------------------
# tar headers


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
    name = utf8(entry.name + '/' if entry.kind == DIRECTORY else entry.name, 'file name %s' % entry.name)
    linkname = utf8(entry.linkname, 'link target of %s' % entry.name) if entry.linkname else b''
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
        pax.append(_pax_record(b'SCHILY.xattr.' + utf8(key, 'xattr name on %s' % entry.name), entry.xattrs[key]))
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
# The stream


def _file_pieces(entry):
    """The ``entry.size`` bytes of a file entry, in pieces of at most ``CHUNK``."""
    if entry.data is not None:
        if len(entry.data) != entry.size:
            raise AciError('%s: data does not match its size' % entry.name)
        yield entry.data
    elif entry.reader is not None:
        remaining = entry.size
        while remaining:
            piece = entry.reader.read(min(remaining, CHUNK))
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
        raise os_error(e, 'cannot read %s' % entry.name)
    try:
        remaining = entry.size
        while True:
            wanted = remaining + 1 if remaining < CHUNK else CHUNK
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
        raise os_error(e, 'cannot read %s' % entry.name)
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


def _coalesce(pieces, size=CHUNK):
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


def tar_chunks(manifest_bytes, manifest_mtime, entries):
    """The tar of ``manifest_bytes`` and ``entries``, in chunks of about ``CHUNK`` bytes."""
    return _coalesce(_tar_pieces(manifest_bytes, manifest_mtime, entries))
