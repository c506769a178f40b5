# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layers of a Docker image squashed into one ACI root filesystem, read as streams.

Nothing is extracted to disk:

1. ``LayerSource`` reads every layer's tar headers, bottom layer first and each layer in its own
   order (as Docker unpacks it), and builds the merged view in memory: which member of which
   layer supplies each final path, where its data starts in the uncompressed layer, with
   whiteouts (``.wh.<name>``), opaque directories (``.wh..wh..opq``), files replacing
   directories, symlinked parent directories and hard links across layers resolved as Docker
   would. Layer digests (``diff_ids``, and blob digests where the archive names them) are
   checked on the way.
2. ``LayerSource.entries`` (called once per pass over the image: compare, write) yields the
   image: ``rootfs``, then every entry without data (directories, symlinks, devices, FIFOs)
   sorted by path, then the regular files, layer by layer in each layer's own order, each read at
   its offset (seeked to in plain layers, skipped to in compressed ones; no tar headers are
   parsed again); further names of a hard-linked file follow it as links. The order depends only
   on the input, so rebuilding gives the same bytes.

A layer's compression is told by its first bytes (media types are not always right); a damaged
or truncated layer fails with an ``AciError`` naming it.

Public API:

* ``LayerSource(image)`` (a ``docker_archive.DockerImage``): an ``aci`` entry source
  (``manifest`` is ``None``, ``warnings``, ``entries(owner_root)``), plus ``lookup(path)`` on the
  merged view and ``passwd`` (the image's ``/etc/passwd``, or ``None``).
"""

from __future__ import annotations

import contextlib
import tarfile

from ansible_collections.aci.registry.plugins.module_utils import streams
from ansible_collections.aci.registry.plugins.module_utils.aci_tar import ROOTFS
from ansible_collections.aci.registry.plugins.module_utils.docker_archive import MAX_SYMLINKS, split_digest
from ansible_collections.aci.registry.plugins.module_utils.streams import (
    CHUNK,
    DIRECTORY,
    FILE,
    HARDLINK,
    SYMLINK,
    AciError,
    Entry,
)

_MAX_PASSWD = 1024 * 1024
_WHITEOUT = '.wh.'
_OPAQUE = '.wh..wh..opq'


# ---------------------------------------------------------------------------------------------
# Reading layers


def _what(image, number):
    return 'layer %d (%s)' % (number + 1, image.layers[number].path)


def _head(raw):
    return raw.peek(8)[:8] if hasattr(raw, 'peek') else b''


def _layer_members(image, number):
    """Yields ``(index, TarInfo, TarFile)`` for each member of layer ``number``, streaming, then
    reads the layer to its end and checks it against its digests.

    A member's data can be read with ``TarFile.extractfile`` until the next member is asked for.
    """
    layer = image.layers[number]
    what = _what(image, number)
    blob_algorithm = split_digest(layer.digest, what)[0] if layer.digest else 'sha256'
    tar_algorithm = split_digest(layer.diff_id, what)[0] if layer.diff_id else 'sha256'
    with image.store.open(layer.path, what) as raw:
        compression = streams.detect(_head(raw))
        blob = streams.Hashing(streams.Checked(raw, what), blob_algorithm)
        with streams.open_stream(blob, compression, what) as stream:
            # A plain layer is its own tar: hashed once when both digests use the same algorithm.
            same = compression is None and tar_algorithm == blob_algorithm
            tar_stream = blob if same else streams.Hashing(stream, tar_algorithm)
            try:
                yield from _members(tar_stream, what)
            except streams.TAR_ERRORS as e:
                raise streams.not_a_tar(what, e) from e
            _verify_layer(layer, blob, tar_stream, what)


class _Data:
    """A layer's uncompressed tar read front to back: ``skip_to`` an offset, then ``read`` a file's
    data there. Plain layers are seeked through (``seekable`` is the file under ``stream``),
    compressed ones read and dropped."""

    def __init__(self, stream, seekable, what):
        self.stream = stream
        self.seekable = seekable
        self.what = what
        self.position = 0

    def skip_to(self, offset):
        if offset < self.position:
            raise AciError('%s: members out of order (offset %d after %d)' % (self.what, offset, self.position))
        if self.seekable is not None:
            self.seekable.seek(offset)
            self.position = offset
        while self.position < offset:
            if not self.read(min(offset - self.position, CHUNK)):
                raise AciError('%s changed while being converted (it ended early); run again' % self.what)

    def read(self, size=-1):
        data = self.stream.read(size)
        self.position += len(data)
        return data


@contextlib.contextmanager
def _layer_data(image, number):
    """The ``_Data`` of layer ``number``, for the second reading (the first one checked it)."""
    layer = image.layers[number]
    what = _what(image, number)
    with image.store.open(layer.path, what) as raw:
        compression = streams.detect(_head(raw))
        with streams.open_stream(raw, compression, what) as stream:
            yield _Data(stream, raw if compression is None and hasattr(raw, 'seek') else None, what)


def _members(tar_stream, what):
    try:
        archive = tarfile.open(fileobj=tar_stream, mode='r|')
    except tarfile.ReadError:
        if tar_stream.size == 0:
            return  # docker save wrote empty layers as empty files
        raise
    for index, member in enumerate(streams.tar_members(archive)):
        yield index, member, archive


def _verify_layer(layer, blob, tar_stream, what):
    diff_id = '%s:%s' % (tar_stream.algorithm, tar_stream.drain())
    blob_digest = '%s:%s' % (blob.algorithm, blob.drain()) if blob is not tar_stream else diff_id
    if layer.digest is not None and blob_digest != layer.digest:
        raise AciError('%s does not match its digest %s (it hashes to %s); the archive is damaged or was altered'
                       % (what, layer.digest, blob_digest))
    if layer.size is not None and blob.size != layer.size:
        raise AciError('%s is %d bytes, its descriptor says %d; the archive is damaged or was altered'
                       % (what, blob.size, layer.size))
    if layer.diff_id is not None and diff_id != layer.diff_id:
        raise AciError('%s does not match its diff_id %s from the image config (its tar hashes to %s); the archive is '
                       'damaged or was altered' % (what, layer.diff_id, diff_id))


# ---------------------------------------------------------------------------------------------
# The merged view


class _Record(Entry):
    """What one layer member contributes: an ``Entry`` named as in the layer, without its data, and
    where to find it again (``layer``, ``index``, and ``offset``, where its data starts in the
    uncompressed layer). ``origin`` is the record whose data a hard link shares."""

    __slots__ = ('layer', 'index', 'origin', 'offset')

    def __init__(self, name='', kind=DIRECTORY, mode=0o755, layer=None, index=None, **fields):
        super().__init__(name, kind, mode, **fields)
        self.layer = layer
        self.index = index
        self.origin = None
        self.offset = 0

    @property
    def data_origin(self):
        return self.origin or self


class _Node:
    __slots__ = ('record', 'children')

    def __init__(self, record, children=None):
        self.record = record
        self.children = children  # name -> _Node for a directory, None otherwise


def _layer_parts(name, what):
    """A member or hard link target as path components below the image root; ``()`` is the root."""
    if name.startswith('/'):
        raise AciError('%s: %r is an absolute path; layer entries must be relative to the image root' % (what, name))
    parts = tuple(p for p in name.split('/') if p not in ('', '.'))
    if '..' in parts:
        raise AciError('%s: %r contains ".."; a layer must not reach outside the image' % (what, name))
    try:
        name.encode('utf-8')
    except UnicodeEncodeError:
        raise AciError('%s: %r is not valid UTF-8; ACIs need UTF-8 file names' % (what, name))
    return parts


def _record(number, index, member, what):
    if member.issparse():
        # Its data is not stored as one run of bytes; Docker never writes sparse members.
        raise AciError('%s: %s is a sparse file, which this converter does not read' % (what, member.name))
    kind = streams.member_kind(member)
    if kind is None:
        return None
    if kind == SYMLINK:
        try:
            member.linkname.encode('utf-8')
        except UnicodeEncodeError:
            raise AciError('%s: the target of %s is not valid UTF-8' % (what, member.name))
    # A hard link's linkname is resolved against the merged view, then dropped.
    record = _Record.from_member(member, member.name, kind, layer=number, index=index)
    record.offset = member.offset_data
    return record


class _View:
    """The root filesystem as the layers applied so far leave it, as a tree of ``_Node``."""

    def __init__(self):
        self.root = _Node(_Record(), {})

    def directory(self, parts, create=None, what='', entry=None):
        """``(node, resolved parts)`` of the directory ``parts``, symlinks followed inside the image
        (as in a chroot: ``..`` stops at the root).

        With ``create`` (the number of the layer being applied) missing directories are made and a
        non-directory or a symlink loop on the way raises (naming ``entry``, the path being added);
        without, any of these gives ``None``."""
        nodes, names = [self.root], []
        pending = list(reversed(parts))
        hops = 0
        while pending:
            name = pending.pop()
            if name in ('', '.'):
                continue
            if name == '..':
                if names:
                    nodes.pop()
                    names.pop()
                continue
            child = nodes[-1].children.get(name)
            if child is None:
                if create is None:
                    return None
                child = nodes[-1].children[name] = _Node(_Record(layer=create), {})
            elif child.record.kind == SYMLINK:
                hops += 1
                if hops > MAX_SYMLINKS:
                    if create is None:
                        return None
                    raise AciError('%s: too many levels of symlinks below /%s' % (what, '/'.join(names + [name])))
                target = child.record.linkname
                if target.startswith('/'):
                    nodes, names = [self.root], []
                pending.extend(reversed(target.split('/')))
                continue
            elif child.children is None:
                if create is None:
                    return None
                raise AciError('%s: /%s is below /%s, which is not a directory in the layers below'
                               % (what, '/'.join(entry or parts), '/'.join(names + [name])))
            nodes.append(child)
            names.append(name)
        return nodes[-1], names

    def lookup(self, parts, follow=True):
        """The node at ``parts`` (the final symlink followed when ``follow``), or ``None``."""
        for dummy in range(MAX_SYMLINKS):
            if not parts:
                return self.root
            found = self.directory(parts[:-1])
            if found is None:
                return None
            node = found[0].children.get(parts[-1])
            if node is None or not follow or node.record.kind != SYMLINK:
                return node
            target = node.record.linkname
            parts = tuple(target.split('/')) if target.startswith('/') else tuple(found[1]) + tuple(target.split('/'))
            parts = _squash_dots(parts)
        return None

    # Whiteouts hide what the layers below hold, never what their own layer holds (the OCI rule;
    # Docker's unpacking keeps what it already unpacked from the layer, whatever the order).

    def remove(self, parts, layer):
        """Applies ``.wh.<name>``: ``parts`` goes, with everything below it, unless ``layer`` made it."""
        found = self.directory(parts[:-1])
        node = found[0].children.get(parts[-1]) if found is not None else None
        if node is not None and node.record.layer != layer:
            del found[0].children[parts[-1]]

    def clear(self, parts, layer):
        """Applies ``.wh..wh..opq``: what the layers below ``layer`` put in directory ``parts`` goes."""
        found = self.directory(parts)
        stack = [found[0]] if found is not None else []
        while stack:
            children = stack.pop().children
            for name in list(children):
                if children[name].record.layer != layer:
                    del children[name]
                elif children[name].children is not None:
                    stack.append(children[name])

    def add(self, parts, record, what):
        if not parts:
            if record.kind != DIRECTORY:
                raise AciError('%s: the image root must be a directory' % what)
            self.root.record = record
            return
        parent = self.directory(parts[:-1], record.layer, what, parts)[0]
        existing = parent.children.get(parts[-1])
        if record.kind == DIRECTORY and existing is not None and existing.children is not None:
            existing.record = record  # a directory over a directory: new metadata, same content
        else:
            parent.children[parts[-1]] = _Node(record, {} if record.kind == DIRECTORY else None)

    def walk(self):
        """Yields ``(path, record)`` for every node below the root, sorted by name, depth first."""
        stack = [('', iter(sorted(self.root.children.items())))]
        while stack:
            prefix, items = stack[-1]
            item = next(items, None)
            if item is None:
                stack.pop()
                continue
            name, node = item
            path = prefix + name
            yield path, node.record
            if node.children is not None:
                stack.append((path + '/', iter(sorted(node.children.items()))))


def _squash_dots(parts):
    out = []
    for part in parts:
        if part == '..':
            if out:
                out.pop()
        elif part not in ('', '.'):
            out.append(part)
    return tuple(out)


class LayerSource:
    """The merged root filesystem of ``image``'s layers, as an ``aci`` entry source.

    Reading happens here once (headers, digests, the merged view) and again, streaming, on
    every call of ``entries``; nothing is written to disk.
    """

    manifest = None

    def __init__(self, image):
        self.image = image
        self.warnings = []
        self.view = _View()
        self.passwd = None
        captured = {}
        for number in range(len(image.layers)):
            self._apply_layer(number, captured)
        node = self.view.lookup(('etc', 'passwd'))
        if node is not None and node.children is None:
            origin = node.record.data_origin
            self.passwd = captured.get((origin.layer, origin.index))
        self._plan()

    def _warn(self, message):
        if message not in self.warnings:
            self.warnings.append(message)

    def _apply_layer(self, number, captured):
        """Applies layer ``number`` to the view in its own order, as Docker unpacks it."""
        what = _what(self.image, number)
        for index, member, archive in _layer_members(self.image, number):
            parts = _layer_parts(member.name, what)
            base = parts[-1] if parts else ''
            if base == _OPAQUE:
                self.view.clear(parts[:-1], number)
                continue
            if base.startswith(_WHITEOUT * 2):
                continue  # other .wh..wh. names are aufs bookkeeping
            if base.startswith(_WHITEOUT):
                if base[len(_WHITEOUT):] in ('', '.', '..'):
                    # ".wh..." would white out the directory above: no layer may reach outside its place.
                    raise AciError('%s: whiteout %r names %r; a whiteout names one entry of its directory'
                                   % (what, member.name, base[len(_WHITEOUT):]))
                self.view.remove(parts[:-1] + (base[len(_WHITEOUT):],), number)
                continue
            record = _record(number, index, member, what)
            if record is None:
                self._warn('%s: %s skipped, tar type %r has no place in an image' % (what, member.name, member.type))
                continue
            if parts == ('etc', 'passwd') and record.kind == FILE and record.size <= _MAX_PASSWD:
                # Kept to find the primary group of a user given without one.
                captured[(number, index)] = archive.extractfile(member).read()
            if record.kind == HARDLINK:
                record.origin = self._link_origin(record, what)
            self.view.add(parts, record, what)

    def _link_origin(self, record, what):
        target = _layer_parts(record.linkname, '%s: hard link %s' % (what, record.name))
        node = self.view.lookup(target, follow=False) if target else None
        if node is None or node.children is not None:
            raise AciError('%s: hard link %s points to %s, which is no file of this layer or the ones below'
                           % (what, record.name, record.linkname))
        return node.record.data_origin

    def _plan(self):
        """Splits the final tree into entries without data (written sorted, first) and files,
        grouped by the layer member their data comes from (written while streaming that layer)."""
        self.dataless = []
        groups = {}
        for path, record in self.view.walk():
            origin = record.data_origin
            if origin.kind == FILE:
                groups.setdefault((origin.layer, origin.index), (origin, []))[1].append(path)
            else:
                self.dataless.append((path, origin))
        self.files = {}
        for (layer, index), group in groups.items():
            self.files.setdefault(layer, {})[index] = group

    def lookup(self, path):
        """The kind (``streams.FILE``, ``streams.DIRECTORY``...) of ``path`` in the merged image, symlinks
        followed, or ``None`` when it is absent."""
        node = self.view.lookup(_squash_dots(tuple(path.split('/'))))
        return None if node is None else node.record.data_origin.kind

    @staticmethod
    def _entry(path, record, owner_root, kind=None, linkname=None):
        return Entry(ROOTFS + '/' + path if path else ROOTFS, kind or record.kind, record.mode,
                     0 if owner_root else record.uid, 0 if owner_root else record.gid, record.mtime,
                     linkname=record.linkname if linkname is None else linkname,
                     devmajor=record.devmajor, devminor=record.devminor, xattrs=record.xattrs)

    def entries(self, owner_root=False):
        """Yields ``rootfs``, every entry without data sorted by path, then the files by layer."""
        yield self._entry('', self.view.root.record, owner_root)
        for path, record in self.dataless:
            yield self._entry(path, record, owner_root)
        for number in sorted(self.files):
            yield from self._layer_files(number, self.files[number], owner_root)

    def _layer_files(self, number, wanted, owner_root):
        """The files whose data layer ``number`` holds, read at the offsets the first reading found."""
        with _layer_data(self.image, number) as data:
            for index in sorted(wanted):
                origin, paths = wanted[index]
                data.skip_to(origin.offset)
                entry = self._entry(paths[0], origin, owner_root, linkname='')
                entry.size = origin.size
                entry.reader = data  # aci reads exactly entry.size bytes from it
                yield entry
                for path in paths[1:]:
                    link = self._entry(path, origin, owner_root, kind=HARDLINK, linkname=ROOTFS + '/' + paths[0])
                    link.xattrs = None  # a link carries no data or metadata of its own, as in aci.TreeSource
                    yield link


__all__ = ['LayerSource']
