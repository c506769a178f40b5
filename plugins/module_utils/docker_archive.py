# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker image archives and OCI image layouts: finding the image in them, its config and its layers.

The input is what ``docker save`` writes (a tar with ``manifest.json``, the image config and one
tar per layer; Docker 25 and later put config and layers under ``blobs/sha256/`` and add
``index.json`` and ``oci-layout``), the same unpacked into a directory, or an OCI image layout
directory (``index.json``, ``oci-layout``, ``blobs/``). The image is chosen by tag and, in a
multi-platform index, by platform; its config and manifests are checked against their digests.
The layers are only located here: ``docker_layers`` reads them, ``docker_manifest`` turns the
config into an appc manifest.

Public API:

* ``open_image(src, tag=None, platform=None)`` -> ``DockerImage`` (a context manager): the image
  chosen by ``tag`` (``repository:tag``) and, for multi-platform OCI indexes, ``platform``.
  ``DockerImage.store.open(name, what)`` opens a file of the archive; ``Layer`` describes a layer.
* ``parse_reference(ref)`` -> ``(domain, repository, tag)``; ``is_bare_tag(text)``;
  ``platform_text(os, arch, variant)`` -> ``os/arch[/variant]``.
* ``split_digest(digest, what)`` -> ``(algorithm, hex)``; ``MAX_SYMLINKS``.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import tarfile

from ansible_collections.aci.registry.plugins.module_utils.streams import READ_ERRORS, AciError

MAX_SYMLINKS = 40  # what Linux follows before ELOOP
_MAX_JSON = 16 * 1024 * 1024

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
# What opening a damaged or foreign file as a (maybe compressed) tar raises.
_TAR_ERRORS = (tarfile.TarError,) + READ_ERRORS
_ARCH_ALIASES = {'x86_64': 'amd64', 'aarch64': 'arm64', 'i386': '386', 'i686': '386'}


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


class _TarStore:
    """The files of a ``docker save`` tar (compressed or not), by name; symlinks inside it followed."""

    def __init__(self, path):
        self.path = path
        try:
            self.identity = _identity(os.stat(path))
            self.tar = tarfile.open(path, 'r:*')
            members = self.tar.getmembers()
        except _TAR_ERRORS as e:
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
            if seen > MAX_SYMLINKS:
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


class _DirStore:
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
    except RecursionError:
        raise AciError('%s: %s is nested too deeply to be an image description' % (what, name))


def _check_digest(data, digest, what):
    algorithm, expected = split_digest(digest, what)
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != expected:
        raise AciError('%s does not match its digest %s (it hashes to %s:%s); the archive is damaged or was altered'
                       % (what, digest, algorithm, actual))


def split_digest(digest, what):
    """``(algorithm, hex digest)`` of ``digest`` (``sha256:<hex>``); raises naming ``what`` for another form."""
    match = _DIGEST.match(digest) if isinstance(digest, str) else None
    if not match:
        raise AciError('%s: %r is not a digest this reader knows (sha256:<64 hex> or sha512:<128 hex>)' % (what, digest))
    return match.group(1), match.group(2)


def _blob_path(digest, what):
    algorithm, hexdigest = split_digest(digest, what)
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


def is_bare_tag(text):
    """True when ``text`` is a tag alone (``1.2.3``), with no repository to compare."""
    return bool(_BARE_TAG.match(text))


def _full_reference(ref):
    domain, repository, tag = parse_reference(ref)
    return domain, repository, tag or 'latest'


class _Candidate:
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


def platform_text(os_name, arch, variant):
    """The platform as Docker writes it: ``os/arch[/variant]``."""
    return '/'.join(p for p in (os_name, arch, variant) if p)


# ---------------------------------------------------------------------------------------------
# The image: config and layers


class Layer:
    """A layer: ``path`` in the store, ``digest`` of the stored blob (or ``None`` when the archive
    does not name it), ``size`` (or ``None``), ``diff_id`` (digest of the uncompressed tar, or ``None``)."""

    __slots__ = ('path', 'digest', 'size', 'diff_id', 'media_type')

    def __init__(self, path, digest=None, size=None, diff_id=None, media_type=None):
        self.path = path
        self.digest = digest
        self.size = size
        self.diff_id = diff_id
        self.media_type = media_type


class DockerImage:
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
        return platform_text(self.config.get('os'), self.config.get('architecture'), self.config.get('variant'))

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
                (bare if key == _REF_NAME and is_bare_tag(value) else refs).append(value)
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
    names = ', '.join(platform_text(*p[1:]) for p in platforms) or 'none'
    if wanted is not None:
        platforms = [p for p in platforms if _platform_matches(wanted, p[1], p[2], p[3])]
    if len(platforms) == 1:
        return platforms[0][0]
    if not platforms:
        raise AciError('%s: no image in the index is present for %s (present: %s)' % (
            src, platform_text(*wanted) if wanted else 'any platform', names))
    raise AciError('%s holds the image for several platforms (%s); choose one with platform' % (src, names))


def _check_config(image, wanted):
    if not isinstance(image.config, dict):
        raise AciError('%s: the image config is not a JSON object' % image.src)
    if not isinstance(image.config.get('config') or {}, dict):
        raise AciError('%s: the image config\'s "config" is not an object' % image.src)
    if wanted is not None and not _platform_matches(wanted, image.config.get('os'), image.config.get('architecture'),
                                                    image.config.get('variant')):
        raise AciError('%s: the image is for %s, not %s' % (image.src, image.platform, platform_text(*wanted)))
    rootfs = image.config.get('rootfs') or {}
    diff_ids = rootfs.get('diff_ids') if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        image.warnings.append('the image config lists no layer digests (rootfs.diff_ids); layers are not verified')
        return
    if len(diff_ids) != len(image.layers):
        raise AciError('%s: the image config lists %d layers (rootfs.diff_ids) but the archive gives %d'
                       % (image.src, len(diff_ids), len(image.layers)))
    for layer, diff_id in zip(image.layers, diff_ids):
        split_digest(diff_id, '%s: rootfs.diff_ids' % image.src)
        layer.diff_id = diff_id


__all__ = ['MAX_SYMLINKS', 'DockerImage', 'Layer', 'is_bare_tag', 'open_image', 'parse_reference', 'platform_text',
           'split_digest']
