# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker image archives and OCI image layouts, read as one ACI root filesystem and manifest.

The input is what ``docker save`` writes (a tar with ``manifest.json``, the image config and one
tar per layer; Docker 25 and later put config and layers under ``blobs/sha256/`` and add
``index.json`` and ``oci-layout``), the same unpacked into a directory, or an OCI image layout
directory (``index.json``, ``oci-layout``, ``blobs/``). The conversion follows docker2aci: the
layers are squashed into one root filesystem and the image config becomes the appc manifest.

Nothing is extracted to disk; the layers are read as streams:

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

Public API:

* ``open_image(src, tag=None, platform=None)`` -> ``DockerImage`` (a context manager): the image
  chosen by ``tag`` (``repository:tag``) and, for multi-platform OCI indexes, ``platform``.
* ``LayerSource(image)``: an ``aci`` entry source (``manifest`` is ``None``, ``warnings``,
  ``entries(owner_root)``), plus ``lookup(path)`` on the merged view.
* ``image_manifest(image, source, name, version=None)`` -> ``(manifest, warnings)``: the
  validated appc manifest.
* ``appc_os_arch(os, arch, variant=None)`` -> ``(os, arch)`` in appc's names.
* ``parse_reference(ref)`` -> ``(domain, repository, tag)``; ``sanitize_ac_name(text)`` and
  ``sanitize_ac_identifier(text)`` -> str (may be empty).
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import json
import lzma
import os
import posixpath
import re
import tarfile
import zlib

try:
    from isal import igzip
except ImportError:
    # Plain gzip is slower at inflating layers but reads the same bytes.
    igzip = None

try:
    import zstandard
except ImportError:
    # Only images with zstd layers need it; they get an error naming the package.
    zstandard = None

from ansible_collections.aci.registry.plugins.module_utils.aci import (
    BLOCKDEV,
    CHARDEV,
    DIRECTORY,
    FIFO,
    FILE,
    HARDLINK,
    ROOTFS,
    SYMLINK,
    AciError,
    Entry,
)
from ansible_collections.aci.registry.plugins.module_utils.manifest import (
    VALID_OS_ARCH,
    check_manifest,
    is_rfc3339,
    manifest_from_options,
    validate_manifest,
)

_MAX_JSON = 16 * 1024 * 1024
_MAX_PASSWD = 1024 * 1024
_CHUNK = 1024 * 1024
_MAX_SYMLINKS = 40  # what Linux follows before ELOOP

# The PATH Docker gives a container whose image sets none; used to find a relative executable.
DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

_WHITEOUT = '.wh.'
_OPAQUE = '.wh..wh..opq'

_INDEX_TYPES = ('application/vnd.oci.image.index.v1+json',
                'application/vnd.docker.distribution.manifest.list.v2+json')
_MANIFEST_TYPES = ('application/vnd.oci.image.manifest.v1+json',
                   'application/vnd.docker.distribution.manifest.v2+json')
_REF_NAME = 'org.opencontainers.image.ref.name'
_CONTAINERD_NAME = 'io.containerd.image.name'
_BARE_TAG = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
_BLOB_PATH = re.compile(r'^blobs/(sha256|sha512)/([0-9a-f]{64}|[0-9a-f]{128})$')
_CONFIG_FILE = re.compile(r'^([0-9a-f]{64})\.json$')
_DIGEST = re.compile(r'^(sha256|sha512):([0-9a-f]{64}|[0-9a-f]{128})$')
# appc's rule for environment variable names; manifest.py checks it again on the whole manifest.
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z_0-9.-]*$')
_PORT = re.compile(r'^([0-9]+)(?:-([0-9]+))?(?:/([A-Za-z0-9]+))?$')

_TAR_KINDS = {tarfile.REGTYPE: FILE, tarfile.AREGTYPE: FILE, tarfile.CONTTYPE: FILE, tarfile.LNKTYPE: HARDLINK,
              tarfile.SYMTYPE: SYMLINK, tarfile.CHRTYPE: CHARDEV, tarfile.BLKTYPE: BLOCKDEV, tarfile.DIRTYPE: DIRECTORY,
              tarfile.FIFOTYPE: FIFO}
_XATTR_PREFIX = 'SCHILY.xattr.'
_DECOMPRESS_ERRORS = (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError)

# Docker architecture (and arm variant) -> appc arch, for os linux.
_LINUX_ARCHES = {'amd64': 'amd64', 'x86_64': 'amd64', '386': 'i386', 'i386': 'i386', 'i686': 'i386',
                 'arm64': 'aarch64', 'aarch64': 'aarch64', 'ppc64le': 'ppc64le', 'ppc64': 'ppc64', 's390x': 's390x'}
_ARM_VARIANTS = {'': 'armv7l', 'v7': 'armv7l', 'v6': 'armv6l'}
_ARCH_ALIASES = {'x86_64': 'amd64', 'aarch64': 'arm64', 'i386': '386', 'i686': '386'}

ANNOTATION_PREFIX = 'appc.io/docker/'


# ---------------------------------------------------------------------------------------------
# Where the image's files are: a tar archive or a directory


def _identity(st):
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _clean_path(name, what):
    """``name`` relative to the archive or layout root, normalised; raises when it leaves the root."""
    if not isinstance(name, str) or not name:
        raise AciError('%s: %r is not a file name' % (what, name))
    if name.startswith('/'):
        raise AciError('%s: %r is an absolute path; names in an image archive are relative to it' % (what, name))
    parts = [p for p in name.split('/') if p not in ('', '.')]
    if '..' in parts or not parts:
        raise AciError('%s: %r points outside the image archive' % (what, name))
    return '/'.join(parts)


class _TarStore(object):
    """The files of a ``docker save`` tar (compressed or not), by name; symlinks inside it followed."""

    def __init__(self, path):
        self.path = path
        try:
            self.identity = _identity(os.stat(path))
            self.tar = tarfile.open(path, 'r:*')
            members = self.tar.getmembers()
        except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as e:
            raise AciError('%s is neither a directory nor a readable tar archive (docker save output): %s' % (path, e))
        self.members = {}
        for member in members:
            parts = [p for p in member.name.split('/') if p not in ('', '.')]
            self.members['/'.join(parts)] = member

    def _member(self, name, what):
        seen = 0
        member = self.members.get(name)
        # docker save writes a layer shared by several images once and links the others to it.
        while member is not None and (member.issym() or member.islnk()):
            seen += 1
            if seen > _MAX_SYMLINKS:
                raise AciError('%s: %s in %s is a loop of links' % (what, name, self.path))
            target = member.linkname if member.islnk() else posixpath.join(posixpath.dirname(name), member.linkname)
            name = _clean_path(posixpath.normpath(target), '%s (link %s)' % (what, member.name))
            member = self.members.get(name)
        if member is None or not member.isfile():
            return None
        return member

    def exists(self, name):
        return self._member(name, name) is not None

    def open(self, name, what):
        member = self._member(name, what)
        if member is None:
            raise AciError('%s: %s is missing from %s' % (what, name, self.path))
        # Layers are read more than once, by offsets found the first time: they must stay the same.
        if _identity(os.stat(self.path)) != self.identity:
            raise AciError('%s changed while being converted; run again' % self.path)
        return self.tar.extractfile(member)

    def close(self):
        self.tar.close()


class _DirStore(object):
    """The files of an OCI image layout (or an unpacked docker save) directory."""

    def __init__(self, path):
        self.path = path
        self.root = os.path.realpath(path)
        self.identities = {}

    def _file(self, name):
        real = os.path.realpath(os.path.join(self.root, name))
        if os.path.commonpath([real, self.root]) != self.root:
            raise AciError('%s: %s is a symlink leading outside the directory' % (self.path, name))
        return real

    def exists(self, name):
        return os.path.isfile(self._file(name))

    def open(self, name, what):
        try:
            f = open(self._file(name), 'rb')
        except OSError as e:
            raise AciError('%s: cannot read %s in %s: %s' % (what, name, self.path, e.strerror or e))
        # Layers are read more than once, by offsets found the first time: they must stay the same.
        if self.identities.setdefault(name, _identity(os.fstat(f.fileno()))) != _identity(os.fstat(f.fileno())):
            f.close()
            raise AciError('%s: %s changed while being converted; run again' % (self.path, name))
        return f

    def close(self):
        pass


def _read_json(store, name, what, digest=None):
    """The parsed JSON file ``name``; checked against ``digest`` (``sha256:<hex>``) when given."""
    with store.open(name, what) as f:
        data = f.read(_MAX_JSON + 1)
    if len(data) > _MAX_JSON:
        raise AciError('%s: %s is larger than %d bytes; it should be a small JSON document' % (what, name, _MAX_JSON))
    if digest is not None:
        _check_digest(data, digest, '%s (%s)' % (what, name))
    try:
        return json.loads(data.decode('utf-8')), data
    except (UnicodeDecodeError, ValueError) as e:
        raise AciError('%s: %s is not valid JSON: %s' % (what, name, e))


def _check_digest(data, digest, what):
    algorithm, expected = _split_digest(digest, what)
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != expected:
        raise AciError('%s does not match its digest %s (it hashes to %s:%s); the archive is damaged or was altered'
                       % (what, digest, algorithm, actual))


def _split_digest(digest, what):
    match = _DIGEST.match(digest) if isinstance(digest, str) else None
    if not match:
        raise AciError('%s: %r is not a digest this reader knows (sha256:<64 hex> or sha512:<128 hex>)' % (what, digest))
    return match.group(1), match.group(2)


def _blob_path(digest, what):
    algorithm, hexdigest = _split_digest(digest, what)
    return 'blobs/%s/%s' % (algorithm, hexdigest)


def _digest_in_path(path):
    """The digest a ``blobs/<alg>/<hex>`` path names, or ``None``."""
    match = _BLOB_PATH.match(path)
    return '%s:%s' % match.groups() if match else None


# ---------------------------------------------------------------------------------------------
# References, platforms and choosing the image


def parse_reference(ref):
    """``(domain, repository, tag)`` of a Docker reference; ``tag`` is ``None`` when it has none.

    Docker Hub's short names are expanded (``busybox`` is ``docker.io``, ``library/busybox``), so
    the different spellings of one image compare equal. A digest (``@sha256:...``) is dropped.
    """
    name = ref.split('@', 1)[0]
    tag = None
    if name.rfind(':') > name.rfind('/'):
        name, tag = name.rsplit(':', 1)
    parts = name.split('/')
    if len(parts) > 1 and ('.' in parts[0] or ':' in parts[0] or parts[0] == 'localhost'):
        domain, repository = parts[0], '/'.join(parts[1:])
    else:
        domain, repository = 'docker.io', name
    if domain in ('index.docker.io', 'registry-1.docker.io'):
        domain = 'docker.io'
    if domain == 'docker.io' and '/' not in repository:
        repository = 'library/' + repository
    return domain, repository, tag


def _full_reference(ref):
    domain, repository, tag = parse_reference(ref)
    return domain, repository, tag or 'latest'


class _Candidate(object):
    """One image in the archive: its references, and what is needed to load it."""

    def __init__(self, refs, bare_tags, payload, label):
        self.refs = [r for r in refs if isinstance(r, str) and r]
        self.bare_tags = bare_tags
        self.payload = payload
        self.label = label

    def describe(self):
        return ', '.join(self.refs + self.bare_tags) or self.label

    def match(self, tag):
        """The reference of this image that ``tag`` names (``(ref, tag part)``), or ``None``."""
        wanted = _full_reference(tag)
        for ref in self.refs:
            if _full_reference(ref) == wanted:
                return ref, wanted[2]
        for bare in self.bare_tags:
            # A layout that records only tags has no repository to compare.
            if tag == bare or wanted[2] == bare:
                return bare, bare
        return None

    def default_reference(self, warnings):
        """``(ref, tag part)`` when no tag was asked for: the image's only tag, else the first."""
        tagged = [(r, _full_reference(r)[2]) for r in self.refs] + [(b, b) for b in self.bare_tags]
        if not tagged:
            return None, None
        distinct = []
        for ref, tag in tagged:
            if tag not in [t for dummy, t in distinct]:
                distinct.append((ref, tag))
        if len(distinct) > 1:
            named = [d for d in distinct if d[1] != 'latest'] or distinct
            if len(named) > 1:
                warnings.append('the image has several tags (%s); the version label is "%s": give tag or version to '
                                'choose' % (', '.join(t for dummy, t in distinct), named[0][1]))
            return named[0]
        return distinct[0]


def _choose(candidates, tag, src, warnings):
    """``(candidate, ref, tag part)`` for the image ``tag`` names; raises when none or several do."""
    if not candidates:
        raise AciError('%s holds no image' % src)
    if tag is None:
        if len(candidates) > 1:
            raise AciError('%s holds %d images (%s); choose one with tag (repository:tag)'
                           % (src, len(candidates), '; '.join(c.describe() for c in candidates)))
        ref, version = candidates[0].default_reference(warnings)
        return candidates[0], ref, version
    matches = [(c, c.match(tag)) for c in candidates]
    matches = [(c, m[0], m[1]) for c, m in matches if m is not None]
    if not matches:
        raise AciError('tag %s is not in %s; it holds: %s' % (tag, src, '; '.join(c.describe() for c in candidates)))
    if len(matches) > 1:
        raise AciError('tag %s is ambiguous in %s: it matches %d images (%s); give the full reference '
                       '(registry/repository:tag)' % (tag, src, len(matches), '; '.join(c.describe() for c, r, t in matches)))
    return matches[0]


def _parse_platform(text):
    """``(os, arch, variant)`` from ``os/arch[/variant]``, arch in Docker's spelling."""
    parts = text.split('/') if isinstance(text, str) else []
    if len(parts) not in (2, 3) or not all(parts):
        raise AciError('platform %r is not os/arch or os/arch/variant (for example linux/arm64 or linux/arm/v7)' % text)
    arch = _ARCH_ALIASES.get(parts[1], parts[1])
    return parts[0], arch, parts[2] if len(parts) == 3 else ''


def _platform_matches(wanted, os_name, arch, variant):
    w_os, w_arch, w_variant = wanted
    arch = _ARCH_ALIASES.get(arch or '', arch or '')
    if (w_os, w_arch) != (os_name, arch):
        return False
    # arm64 images mostly leave out their (only) variant v8.
    defaults = {'arm64': 'v8'}
    return not w_variant or w_variant == (variant or defaults.get(arch, ''))


def _platform_text(os_name, arch, variant):
    return '/'.join(p for p in (os_name, arch, variant) if p)


# ---------------------------------------------------------------------------------------------
# The image: config and layers


class Layer(object):
    """A layer: ``path`` in the store, ``digest`` of the stored blob (or ``None`` when the archive
    does not name it), ``size`` (or ``None``), ``diff_id`` (digest of the uncompressed tar, or ``None``)."""

    __slots__ = ('path', 'digest', 'size', 'diff_id', 'media_type')

    def __init__(self, path, digest=None, size=None, diff_id=None, media_type=None):
        self.path = path
        self.digest = digest
        self.size = size
        self.diff_id = diff_id
        self.media_type = media_type


class DockerImage(object):
    """The chosen image: ``format`` (``docker-archive`` or ``oci-layout``), ``reference`` (the
    reference it was chosen by or is known as, or ``None``), ``tag`` (its tag part, or ``None``),
    ``config`` (the image config dict), ``config_digest`` (Docker's image ID), ``layers``
    (``Layer`` list, bottom first), ``warnings``; ``close()`` releases the archive."""

    def __init__(self, src, store, fmt):
        self.src = src
        self.store = store
        self.format = fmt
        self.reference = None
        self.tag = None
        self.config = {}
        self.config_digest = None
        self.layers = []
        self.warnings = []

    @property
    def platform(self):
        return _platform_text(self.config.get('os'), self.config.get('architecture'), self.config.get('variant'))

    def close(self):
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def open_image(src, tag=None, platform=None):
    """The image in ``src`` (a docker save tar, or a directory) that ``tag`` names, loaded.

    ``tag`` may be left out when the archive holds a single image; ``platform`` (``os/arch`` or
    ``os/arch/variant``) chooses inside a multi-platform OCI index and is checked against the
    config otherwise. Raises ``AciError`` naming what is wrong with the archive.
    """
    wanted = _parse_platform(platform) if platform is not None else None
    if os.path.isdir(src):
        store = _DirStore(src)
    elif os.path.exists(src):
        store = _TarStore(src)
    else:
        raise AciError('src %s does not exist' % src)
    try:
        if store.exists('manifest.json'):
            image = _docker_archive(src, store, tag)
        elif store.exists('index.json'):
            image = _oci_layout(src, store, tag, wanted)
        else:
            raise AciError('%s has no manifest.json (docker save) and no index.json (OCI image layout); it is not a '
                           'Docker image archive' % src)
        _check_config(image, wanted)
    except BaseException:
        store.close()
        raise
    return image


def _docker_archive(src, store, tag):
    """An image from ``manifest.json``: every docker save writes it, Docker 25+ next to index.json."""
    entries, dummy = _read_json(store, 'manifest.json', src)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise AciError('%s: manifest.json must be a list of images (objects with Config and Layers)' % src)
    candidates = []
    for number, entry in enumerate(entries):
        repo_tags = entry.get('RepoTags') or []
        config = entry.get('Config')
        candidates.append(_Candidate(repo_tags if isinstance(repo_tags, list) else [], [], entry,
                                     'untagged image %s' % (config if isinstance(config, str) else '#%d' % (number + 1))))
    image = DockerImage(src, store, 'docker-archive')
    candidate, image.reference, image.tag = _choose(candidates, tag, src, image.warnings)
    entry = candidate.payload
    what = '%s: manifest.json' % src
    config_path = _clean_path(entry.get('Config'), what + ' Config')
    layers = entry.get('Layers')
    if not isinstance(layers, list):
        raise AciError('%s: Layers must be a list of layer file names' % what)
    config_digest = _digest_in_path(config_path)
    match = _CONFIG_FILE.match(config_path)
    if config_digest is None and match:
        config_digest = 'sha256:' + match.group(1)
    image.config, data = _read_json(store, config_path, src + ': image config', config_digest)
    image.config_digest = config_digest or 'sha256:' + hashlib.sha256(data).hexdigest()
    for number, path in enumerate(layers):
        path = _clean_path(path, '%s layer %d' % (what, number + 1))
        if not store.exists(path):
            raise AciError('%s: layer %d (%s) is missing from the archive' % (src, number + 1, path))
        image.layers.append(Layer(path, digest=_digest_in_path(path)))
    return image


def _oci_layout(src, store, tag, wanted):
    """An image from an OCI layout's ``index.json``, following nested indexes to one platform."""
    index, dummy = _read_json(store, 'index.json', src)
    manifests = index.get('manifests') if isinstance(index, dict) else None
    if not isinstance(manifests, list) or not all(isinstance(m, dict) for m in manifests):
        raise AciError('%s: index.json has no "manifests" list' % src)
    candidates = []
    for descriptor in manifests:
        annotations = descriptor.get('annotations') or {}
        refs, bare = [], []
        for key in (_CONTAINERD_NAME, _REF_NAME):
            value = annotations.get(key)
            if isinstance(value, str) and value:
                (bare if key == _REF_NAME and _BARE_TAG.match(value) else refs).append(value)
        candidates.append(_Candidate(refs, bare, descriptor, 'untagged image %s' % descriptor.get('digest')))
    image = DockerImage(src, store, 'oci-layout')
    candidate, image.reference, image.tag = _choose(candidates, tag, src, image.warnings)
    manifest = _resolve_manifest(store, src, candidate.payload, wanted)
    config = manifest.get('config')
    if not isinstance(config, dict):
        raise AciError('%s: the image manifest has no config descriptor' % src)
    image.config_digest = config.get('digest')
    image.config, dummy = _read_json(store, _blob_path(image.config_digest, src + ': config'), src + ': image config',
                                     image.config_digest)
    layers = manifest.get('layers')
    if not isinstance(layers, list) or not all(isinstance(d, dict) for d in layers):
        raise AciError('%s: the image manifest has no "layers" list' % src)
    for number, descriptor in enumerate(layers):
        what = '%s: layer %d' % (src, number + 1)
        path = _blob_path(descriptor.get('digest'), what)
        if not store.exists(path):
            urls = descriptor.get('urls')
            raise AciError('%s (%s) is missing from the layout%s' % (
                what, path, '; it is a foreign layer to download from %s' % ', '.join(urls) if urls else ''))
        image.layers.append(Layer(path, descriptor.get('digest'), descriptor.get('size'),
                                  media_type=descriptor.get('mediaType')))
    return image


def _resolve_manifest(store, src, descriptor, wanted, depth=0):
    """The image manifest ``descriptor`` leads to, choosing one platform in an index."""
    if depth > 4:
        raise AciError('%s: image indexes are nested too deeply' % src)
    what = '%s: %s' % (src, descriptor.get('digest'))
    document, dummy = _read_json(store, _blob_path(descriptor.get('digest'), what), what, descriptor.get('digest'))
    if not isinstance(document, dict):
        raise AciError('%s is not a JSON object' % what)
    media_type = descriptor.get('mediaType') or document.get('mediaType')
    if media_type in _INDEX_TYPES or (media_type not in _MANIFEST_TYPES and 'manifests' in document):
        return _resolve_manifest(store, src, _choose_platform(store, src, document, wanted), wanted, depth + 1)
    return document


def _choose_platform(store, src, index, wanted):
    children = [d for d in index.get('manifests') or () if isinstance(d, dict)]
    platforms = []
    for descriptor in children:
        platform = descriptor.get('platform') or {}
        annotations = descriptor.get('annotations') or {}
        # BuildKit's provenance attestations sit beside the images as platform unknown/unknown.
        if annotations.get('vnd.docker.reference.type') == 'attestation-manifest' or platform.get('os') == 'unknown':
            continue
        try:
            present = store.exists(_blob_path(descriptor.get('digest'), src))
        except AciError:
            present = False
        # docker save of a multi-platform image keeps the whole index but the blobs of one platform.
        if present:
            platforms.append((descriptor, platform.get('os'), platform.get('architecture'), platform.get('variant')))
    names = ', '.join(_platform_text(*p[1:]) for p in platforms) or 'none'
    if wanted is not None:
        platforms = [p for p in platforms if _platform_matches(wanted, p[1], p[2], p[3])]
    if len(platforms) == 1:
        return platforms[0][0]
    if not platforms:
        raise AciError('%s: no image in the index is present for %s (present: %s)' % (
            src, _platform_text(*wanted) if wanted else 'any platform', names))
    raise AciError('%s holds the image for several platforms (%s); choose one with platform' % (src, names))


def _check_config(image, wanted):
    if not isinstance(image.config, dict):
        raise AciError('%s: the image config is not a JSON object' % image.src)
    if not isinstance(image.config.get('config') or {}, dict):
        raise AciError('%s: the image config\'s "config" is not an object' % image.src)
    if wanted is not None and not _platform_matches(wanted, image.config.get('os'), image.config.get('architecture'),
                                                    image.config.get('variant')):
        raise AciError('%s: the image is for %s, not %s' % (image.src, image.platform, _platform_text(*wanted)))
    rootfs = image.config.get('rootfs') or {}
    diff_ids = rootfs.get('diff_ids') if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        image.warnings.append('the image config lists no layer digests (rootfs.diff_ids); layers are not verified')
        return
    if len(diff_ids) != len(image.layers):
        raise AciError('%s: the image config lists %d layers (rootfs.diff_ids) but the archive gives %d'
                       % (image.src, len(diff_ids), len(image.layers)))
    for layer, diff_id in zip(image.layers, diff_ids):
        _split_digest(diff_id, '%s: rootfs.diff_ids' % image.src)
        layer.diff_id = diff_id


# ---------------------------------------------------------------------------------------------
# Reading layers


class _Hashing(object):
    """A read-only stream that counts, and with an ``algorithm`` hashes, what passes through it."""

    def __init__(self, stream, algorithm=None):
        self.stream = stream
        self.algorithm = algorithm
        self.hasher = hashlib.new(algorithm) if algorithm else None
        self.size = 0

    def read(self, size=-1):
        data = self.stream.read(size)
        if self.hasher is not None:
            self.hasher.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer):
        # ISA-L's gzip reader fills buffers rather than asking for bytes.
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def drain(self):
        while self.read(_CHUNK):
            pass
        return '%s:%s' % (self.algorithm, self.hasher.hexdigest())


class _Reader(object):
    """A member's data, with decompression errors told as ``AciError`` naming the layer."""

    def __init__(self, stream, what):
        self.stream = stream
        self.what = what

    def read(self, size=-1):
        try:
            return self.stream.read(size)
        except _DECOMPRESS_ERRORS as e:
            raise AciError('%s is damaged: %s' % (self.what, e))


_MAGIC = ((b'\x1f\x8b', 'gzip'), (b'\x28\xb5\x2f\xfd', 'zstd'), (b'BZh', 'bzip2'), (b'\xfd7zXZ\x00', 'xz'))


def _decompressed(stream, head, what):
    """``stream`` uncompressed, found out from its first bytes (media types are not always right)."""
    compression = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    if compression is None:
        return stream, False
    if compression == 'gzip':
        return (igzip.IGzipFile(fileobj=stream, mode='rb') if igzip else gzip.GzipFile(fileobj=stream, mode='rb')), True
    if compression == 'bzip2':
        return bz2.BZ2File(stream), True
    if compression == 'xz':
        return lzma.LZMAFile(stream), True
    if zstandard is None:
        raise AciError('%s is zstd-compressed; install the Python package zstandard on the host to read it' % what)
    return zstandard.ZstdDecompressor().stream_reader(stream), True


def _layer_members(image, number):
    """Yields ``(index, TarInfo, TarFile)`` for each member of layer ``number``, streaming, then
    reads the layer to its end and checks it against its digests.

    A member's data can be read with ``TarFile.extractfile`` until the next member is asked for.
    """
    layer = image.layers[number]
    what = 'layer %d (%s)' % (number + 1, layer.path)
    blob_algorithm = _split_digest(layer.digest, what)[0] if layer.digest else 'sha256'
    tar_algorithm = _split_digest(layer.diff_id, what)[0] if layer.diff_id else 'sha256'
    with image.store.open(layer.path, what) as raw:
        blob = _Hashing(raw, blob_algorithm)
        try:
            stream, compressed = _decompressed(blob, _head(raw), what)
            tar_stream = _Hashing(stream, tar_algorithm) if compressed or tar_algorithm != blob_algorithm else blob
            yield from _members(tar_stream, what)
            _verify_layer(layer, blob, tar_stream, what)
        except tarfile.TarError as e:
            raise AciError('%s is not a readable tar: %s' % (what, e))
        except _DECOMPRESS_ERRORS as e:
            raise AciError('%s is damaged: %s' % (what, e))


def _head(raw):
    return raw.peek(8)[:8] if hasattr(raw, 'peek') else b''


class _Data(object):
    """A layer's uncompressed tar read front to back: ``skip_to`` an offset, then ``read`` a file's
    data there. Plain layers are seeked through, compressed ones read and dropped."""

    def __init__(self, stream, seekable, what):
        self.stream = stream
        self.seekable = seekable
        self.what = what
        self.position = 0

    def skip_to(self, offset):
        if offset < self.position:
            raise AciError('%s: members out of order (offset %d after %d)' % (self.what, offset, self.position))
        if self.seekable:
            self.stream.seek(offset)
            self.position = offset
        while self.position < offset:
            if not self.read(min(offset - self.position, _CHUNK)):
                raise AciError('%s changed while being converted (it ended early); run again' % self.what)

    def read(self, size=-1):
        try:
            data = self.stream.read(size)
        except _DECOMPRESS_ERRORS as e:
            raise AciError('%s is damaged: %s' % (self.what, e))
        self.position += len(data)
        return data


@contextlib.contextmanager
def _layer_data(image, number):
    """The ``_Data`` of layer ``number``, for the second reading (the first one checked it)."""
    layer = image.layers[number]
    what = 'layer %d (%s)' % (number + 1, layer.path)
    with image.store.open(layer.path, what) as raw:
        try:
            stream, compressed = _decompressed(raw, _head(raw), what)
        except _DECOMPRESS_ERRORS as e:
            raise AciError('%s is damaged: %s' % (what, e))
        yield _Data(stream, not compressed and hasattr(raw, 'seek'), what)


def _members(tar_stream, what):
    try:
        archive = tarfile.open(fileobj=tar_stream, mode='r|')
    except tarfile.ReadError:
        if tar_stream.size == 0:
            return  # docker save wrote empty layers as empty files
        raise
    index = 0
    while True:
        member = archive.next()
        if member is None:
            return
        # The stream-mode TarFile keeps every member it has seen; a layer has many.
        del archive.members[:]
        yield index, member, archive
        index += 1


def _verify_layer(layer, blob, tar_stream, what):
    diff_id = tar_stream.drain()
    blob_digest = blob.drain() if blob is not tar_stream else diff_id
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


class _Record(object):
    """What one layer member contributes: its metadata, and where to find it again (``layer``,
    ``index``, ``name``, and ``offset``, where its data starts in the uncompressed layer).
    ``origin`` is the record whose data a hard link shares."""

    __slots__ = ('layer', 'index', 'name', 'kind', 'mode', 'uid', 'gid', 'mtime', 'size', 'linkname',
                 'devmajor', 'devminor', 'xattrs', 'origin', 'offset')

    def __init__(self, layer=None, index=None, name='', kind=DIRECTORY, mode=0o755, uid=0, gid=0, mtime=0, size=0,
                 linkname='', devmajor=0, devminor=0, xattrs=None):
        self.layer = layer
        self.index = index
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
        self.origin = None
        self.offset = 0

    @property
    def data_origin(self):
        return self.origin or self


class _Node(object):
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
    kind = _TAR_KINDS.get(member.type)
    if kind is None:
        return None
    record = _Record(number, index, member.name, kind, member.mode & 0o7777, member.uid, member.gid,
                     int(member.mtime // 1), member.size if kind == FILE else 0)
    record.offset = member.offset_data
    if kind == HARDLINK:
        record.linkname = member.linkname  # resolved against the merged view, then dropped
    elif kind == SYMLINK:
        try:
            member.linkname.encode('utf-8')
        except UnicodeEncodeError:
            raise AciError('%s: the target of %s is not valid UTF-8' % (what, member.name))
        record.linkname = member.linkname
    elif kind in (CHARDEV, BLOCKDEV):
        record.devmajor, record.devminor = member.devmajor, member.devminor
    xattrs = dict((k[len(_XATTR_PREFIX):], v.encode('utf-8', 'surrogateescape'))
                  for k, v in member.pax_headers.items() if k.startswith(_XATTR_PREFIX))
    record.xattrs = xattrs or None
    return record


class _View(object):
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
                if hops > _MAX_SYMLINKS:
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
        for dummy in range(_MAX_SYMLINKS):
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


class LayerSource(object):
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
        what = 'layer %d (%s)' % (number + 1, self.image.layers[number].path)
        for index, member, archive in _layer_members(self.image, number):
            parts = _layer_parts(member.name, what)
            base = parts[-1] if parts else ''
            if base == _OPAQUE:
                self.view.clear(parts[:-1], number)
                continue
            if base.startswith(_WHITEOUT * 2):
                continue  # other .wh..wh. names are aufs bookkeeping
            if base.startswith(_WHITEOUT):
                self.view.remove(parts[:-1] + (base[len(_WHITEOUT):],), number)
                continue
            record = _record(number, index, member, what)
            if record is None:
                self._warn('%s: %s skipped, tar type %r has no place in an image' % (what, member.name, member.type))
                continue
            if parts == ('etc', 'passwd') and record.kind == FILE and record.size <= _MAX_PASSWD:
                # Kept to find the primary group of a user given without one.
                captured[(number, index)] = _Reader(archive.extractfile(member), what).read()
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
        """The kind (``aci.FILE``, ``aci.DIRECTORY``...) of ``path`` in the merged image, symlinks
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


# ---------------------------------------------------------------------------------------------
# The manifest


def appc_os_arch(os_name, arch, variant=None):
    """appc's ``(os, arch)`` for a Docker/OCI platform; raises ``AciError`` for one appc lacks."""
    if os_name != 'linux':
        raise AciError('os %r cannot become an ACI: appc images are for %s' % (os_name, ', '.join(sorted(VALID_OS_ARCH))))
    variant = variant or ''
    if arch == 'arm':
        appc_arch = _ARM_VARIANTS.get(variant)
    elif arch in ('arm64', 'aarch64') and variant not in ('', 'v8'):
        appc_arch = None
    else:
        appc_arch = _LINUX_ARCHES.get(arch)
    if appc_arch is None:
        raise AciError('architecture %s has no appc name; appc knows %s on linux'
                       % (_platform_text(None, arch, variant), ', '.join(VALID_OS_ARCH['linux'])))
    return os_name, appc_arch


def sanitize_ac_name(text):
    """``text`` as an AC Name (lower-case letters and digits joined by single ``-``); may be ``''``."""
    return '-'.join(w for w in re.split(r'[^a-z0-9]+', text.lower()) if w)


def sanitize_ac_identifier(text):
    """``text`` as an AC Identifier (separators ``-._~/`` single and between letters or digits); may be ``''``."""
    text = re.sub(r'[^a-z0-9._~/-]', '-', text.lower())
    text = re.sub(r'([-._~/])[-._~/]+', r'\1', text)
    return text.strip('-._~/')


def _ports(exposed, warnings):
    ports = []
    for key in sorted(exposed or {}):
        match = _PORT.match(key) if isinstance(key, str) else None
        first = int(match.group(1)) if match else 0
        last = int(match.group(2)) if match and match.group(2) else first
        if not match or not 1 <= first <= last <= 65535:
            warnings.append('exposed port %r skipped: not a port, a port range or either with /protocol' % (key,))
            continue
        protocol = (match.group(3) or 'tcp').lower()
        port = {'name': sanitize_ac_name('%s-%s' % (key.split('/')[0], protocol)), 'protocol': protocol, 'port': first}
        if last > first:
            port['count'] = last - first + 1
        ports.append(port)
    return sorted(ports, key=lambda p: (p['port'], p['protocol']))


def _mount_points(volumes):
    """A mount point per volume, named like docker2aci does (``volume-`` and the path)."""
    points, used = [], set()
    for path in sorted(volumes or {}):
        path = '/' + path.strip('/') if path.strip('/') else '/'
        base = sanitize_ac_name('volume-' + path) if path != '/' else 'volume-root'
        name, suffix = base, 1
        while name in used:
            suffix += 1
            name = '%s-%d' % (base, suffix)
        used.add(name)
        points.append({'name': name, 'path': path})
    return points


def _environment(env, warnings):
    variables = {}
    for item in env or ():
        name, sep, value = item.partition('=') if isinstance(item, str) else ('', '', '')
        if not sep or not _ENV_NAME.match(name):
            warnings.append('environment entry %r skipped: appc needs NAME=value with a name of letters, digits, '
                            '"_", "." or "-" not starting with a digit' % (item,))
            continue
        variables[name] = value
    return variables


def _user_group(user, passwd, warnings):
    """appc's user and group for Docker's ``User`` (``user``, ``uid``, ``user:group``, ``uid:gid``)."""
    if not user:
        return '0', '0'
    name, sep, group = user.partition(':')
    if sep and group:
        return name, group
    # Docker runs a user given alone with the primary group /etc/passwd gives it (gid 0 when the
    # uid is not listed there); appc has no such default, so the group is looked up now.
    for line in (passwd or b'').decode('utf-8', 'replace').splitlines():
        fields = line.split(':')
        if len(fields) >= 4 and name in (fields[0], fields[2]) and fields[3].isdigit():
            return name, fields[3]
    if not name.isdigit():
        warnings.append('user %s is not in the image\'s /etc/passwd; group 0 is used' % name)
    return name, '0'


def _exec(config, source, environment, working_directory, warnings):
    """Entrypoint + Cmd, with a bare command name looked up along the image's PATH like Docker does."""
    command = []
    for field in ('Entrypoint', 'Cmd'):
        value = config.get(field) or []
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise AciError('the image config\'s %s must be a list of strings, got %r' % (field, value))
        command.extend(value)
    if not command:
        return []
    program = command[0]
    if '/' not in program:
        for directory in environment.get('PATH', DEFAULT_PATH).split(':'):
            candidate = posixpath.join(directory or '/', program)
            if directory.startswith('/') and source.lookup(candidate) not in (None, DIRECTORY):
                return [candidate] + command[1:]
        warnings.append('the command %s is not found along PATH in the image; it is kept as it is' % program)
    elif not program.startswith('/'):
        command[0] = posixpath.normpath(posixpath.join(working_directory or '/', program))
    elif source.lookup(program) in (None, DIRECTORY):
        warnings.append('the command %s is not a file in the image' % program)
    return command


def _labels(image, version, warnings):
    config = image.config
    labels = {'version': version or image.tag or 'latest'}
    if config.get('os') or config.get('architecture'):
        labels['os'], labels['arch'] = appc_os_arch(config.get('os'), config.get('architecture'), config.get('variant'))
    else:
        warnings.append('the image config names no os and architecture; the image has no os and arch labels')
    return labels


def _annotations(image, entrypoint, cmd):
    config = image.config
    annotations = {}
    if isinstance(config.get('author'), str) and config['author']:
        annotations['authors'] = config['author']
    if is_rfc3339(config.get('created')):
        annotations['created'] = config['created']
    if image.reference is not None:
        annotations[ANNOTATION_PREFIX + 'originalname'] = image.reference
        if not _BARE_TAG.match(image.reference):
            domain, repository, tag = parse_reference(image.reference)
            annotations[ANNOTATION_PREFIX + 'registryurl'] = domain
            annotations[ANNOTATION_PREFIX + 'repository'] = repository
    if image.tag:
        annotations[ANNOTATION_PREFIX + 'tag'] = image.tag
    annotations[ANNOTATION_PREFIX + 'imageid'] = image.config_digest
    # rkt and the kubelet's rkt runtime read these to run the image with other arguments.
    for key, value in (('entrypoint', entrypoint), ('cmd', cmd)):
        if value:
            annotations[ANNOTATION_PREFIX + key] = json.dumps(value, separators=(',', ':'))
    return annotations


def _label_annotations(labels, taken, warnings):
    """Docker labels as annotations; a key that is no AC Identifier is sanitised or skipped."""
    kept = {}
    for key in sorted(labels or {}):
        value = labels[key]
        name = sanitize_ac_identifier(key)
        if not isinstance(value, str):
            warnings.append('Docker label %r skipped: its value is not a string' % key)
        elif not name:
            warnings.append('Docker label %r skipped: nothing of it can form an AC Identifier' % key)
        elif name in taken or name in kept:
            warnings.append('Docker label %r skipped: annotation %s is already set' % (key, name))
        else:
            if name != key:
                warnings.append('Docker label %r kept as annotation %s (annotation names are AC Identifiers)' % (key, name))
            kept[name] = value
    return kept


def _drop_bad_annotations(manifest, names, warnings):
    """Removes annotations from ``names`` that the validator refuses (a label "homepage" that is
    no URL, say), warning with its reason, so one odd label does not stop the conversion."""
    errors, dummy = check_manifest(manifest)
    bad = {}
    for error in errors:
        match = re.match(r'^annotations\[(\d+)\]\.[a-z]+: (.*)$', error)
        if match:
            bad.setdefault(int(match.group(1)), match.group(2))
    annotations = manifest.get('annotations') or []
    for index in sorted(bad, reverse=True):
        if annotations[index]['name'] in names:
            warnings.append('Docker label %s skipped: %s' % (annotations[index]['name'], bad[index]))
            del annotations[index]


def image_manifest(image, source, name, version=None):
    """The appc manifest of ``image`` published as ``name``; ``(manifest, warnings)``.

    ``version`` overrides the tag as the version label. The manifest is validated with
    ``manifest.validate_manifest``; ``ManifestError`` lists what is wrong (a bad ``name``, say).
    """
    warnings = list(image.warnings) + list(source.warnings)
    config = image.config.get('config') or {}
    environment = _environment(config.get('Env'), warnings)
    working_directory = config.get('WorkingDir') or None
    if working_directory and not working_directory.startswith('/'):
        warnings.append('working directory %s made absolute' % working_directory)
        working_directory = '/' + working_directory
    command = _exec(config, source, environment, working_directory, warnings)
    options = {'name': name, 'labels': _labels(image, version, warnings)}
    annotations = _annotations(image, config.get('Entrypoint'), config.get('Cmd'))
    from_labels = _label_annotations(config.get('Labels'), annotations, warnings)
    annotations.update(from_labels)
    options['annotations'] = annotations
    if command:
        options['exec'] = command
        options['user'], options['group'] = _user_group(config.get('User'), source.passwd, warnings)
        options['working_directory'] = working_directory
        options['environment'] = environment or None
        options['ports'] = _ports(config.get('ExposedPorts'), warnings) or None
        options['mount_points'] = _mount_points(config.get('Volumes')) or None
    else:
        warnings.append('the image has no Entrypoint or Cmd; the ACI has no app, as a base image would')
    manifest = manifest_from_options(options)
    _drop_bad_annotations(manifest, from_labels, warnings)
    warnings.extend(validate_manifest(manifest, source='the converted manifest'))
    return manifest, warnings


__all__ = ['ANNOTATION_PREFIX', 'DEFAULT_PATH', 'DockerImage', 'Layer', 'LayerSource', 'appc_os_arch', 'image_manifest',
           'open_image', 'parse_reference', 'sanitize_ac_identifier', 'sanitize_ac_name']
