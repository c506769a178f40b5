# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One image of the publish role, normalised once into the record every later step uses.

An entry of ``publish_images`` (already checked against the role's argument specs) and the role's
defaults (domain, build directory, compression) give one record: the full name, version, os and
arch (the defaults are applied here and nowhere else), the labels to build with, the source, the
manifest options, and the web-root paths from ``webroot``. The aci.registry.aci_image_records
filter makes them; aci_image_set builds and signs from them; the role copies the files they name.
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.aci.registry.plugins.module_utils import webroot

DEFAULT_OS = 'linux'
DEFAULT_ARCH = 'amd64'

#: The source options of an entry, by the kind of source they make.
BUILD_SOURCES = ('src', 'rootfs', 'from_aci', 'programs', 'files')
UPSTREAM_OPTIONS = ('upstream', 'upstream_key', 'upstream_key_path', 'upstream_key_fingerprint',
                    'upstream_ca_path', 'upstream_port')
DOCKER_OPTIONS = ('docker_archive', 'docker_tag')

#: Where fetched upstream images are kept, below the build directory.
UPSTREAM_DIR = 'upstream'


class RecordError(ValueError):
    """An entry that cannot be published; the message names it and says what to fix."""


def default_version(image):
    """The entry's version; a mirrored or converted image defaults to its source's tag
    (``upstream: quay.io/x:v1``, ``docker_tag: example/hello:2.0``), else ``''``."""
    if image.get('version') not in (None, ''):
        return str(image['version'])
    for source in ('upstream', 'docker_tag'):
        dummy, sep, tag = (image.get(source) or '').rpartition(':')
        if sep and '/' not in tag:
            return tag
    return ''


def _kind(image, label):
    """``build``, ``upstream`` or ``docker``: which step makes the image."""
    kinds = [kind for kind, options in (('upstream', ('upstream',)), ('docker', ('docker_archive',)))
             if any(image.get(o) is not None for o in options)]
    building = [o for o in ('src', 'rootfs', 'from_aci') if image.get(o) is not None]
    host_files = image.get('programs') or image.get('files')
    if len(kinds) > 1 or (kinds and (building or host_files)):
        raise RecordError('%s: give one source - src, rootfs, from_aci (with programs/files if you like), '
                          'upstream or docker_archive - not several' % label)
    if kinds:
        return kinds[0]
    if not building and not host_files:
        raise RecordError('%s: no source; give src, rootfs, from_aci, programs or files, upstream or '
                          'docker_archive' % label)
    return 'build'


def upstream_file(build_dir, image, os_name, arch):
    """Where the fetched, verified upstream image is kept: the fetch writes it, the build re-packages it."""
    stem = re.sub('[/:]', '_', image['upstream'])
    return posixpath.join(build_dir, UPSTREAM_DIR, '%s-%s-%s.aci' % (stem, os_name, arch))


def _source(image, kind, build_dir, os_name, arch):
    if kind == 'docker':
        return dict((o, image.get(o)) for o in DOCKER_OPTIONS)
    if kind == 'upstream':
        source = dict((o, image.get(o)) for o in UPSTREAM_OPTIONS)
        source['from_aci'] = upstream_file(build_dir, image, os_name, arch)
        return source
    return dict((o, image.get(o)) for o in BUILD_SOURCES)


def _labels(image, version, os_name, arch, label):
    labels = dict(image.get('labels') or {})
    for name, value in (('version', version), ('os', os_name), ('arch', arch)):
        if labels.get(name) not in (None, value):
            raise RecordError('%s: labels.%s is %r but the entry says %s %r; set %s: once, not in labels'
                              % (label, name, labels[name], name, value, name))
        labels[name] = value
    return labels


def layout_paths(domain, name, version, os_name=DEFAULT_OS, arch=DEFAULT_ARCH):
    """``{name, path, image, signature, discovery}``: the full name and web-root paths of an image
    ``name`` (the path below ``domain``); ``webroot.LayoutError`` when they cannot be laid out."""
    full = webroot.full_name(domain, str(name))
    path = webroot.split_name(full, domain)
    return dict(name=full, path=path, image=webroot.image_relpath(path, version, os_name, arch),
                signature=webroot.signature_relpath(path, version, os_name, arch),
                discovery=webroot.discovery_relpath(path))


def image_record(image, domain, build_dir, compression='gzip', label=None):
    """The record of one ``publish_images`` entry: see the module docstring and the filter's documentation."""
    label = label or 'image %r' % (image.get('name') if isinstance(image, dict) else image,)
    if not isinstance(image, dict) or not image.get('name'):
        raise RecordError('%s: expected a dict with a name (the path below the domain, e.g. app1), got %r'
                          % (label, image))
    version = default_version(image)
    if not version:
        raise RecordError('%s: no version; give version: (quoted, "1.0") or an upstream or docker_tag '
                          'with a :tag' % label)
    os_name = image.get('os') or DEFAULT_OS
    arch = image.get('arch') or DEFAULT_ARCH
    kind = _kind(image, label)
    try:
        record = layout_paths(domain, image['name'], version, os_name, arch)
    except webroot.LayoutError as e:
        raise RecordError('%s: %s' % (label, e))
    record.update(
        version=version, os=os_name, arch=arch,
        labels=_labels(image, version, os_name, arch, label), latest=bool(image.get('latest', False)),
        kind=kind, source=_source(image, kind, build_dir, os_name, arch),
        manifest=image.get('manifest'),
        owner_root=image.get('owner_root', True) is not False,
        compression=image.get('compression') or compression,
        dest=posixpath.join(build_dir, record['image']),
    )
    return record


def image_records(images, domain, build_dir, compression='gzip'):
    """The records of every entry, in order; two entries for the same file are refused."""
    if not isinstance(images, list):
        raise RecordError('publish_images must be a list of images, got %r' % (images,))
    records, seen = [], {}
    for number, image in enumerate(images):
        name = image.get('name') if isinstance(image, dict) else None
        record = image_record(image, domain, build_dir, compression,
                              label='publish_images[%d] (%s)' % (number, name or 'no name'))
        if record['image'] in seen:
            raise RecordError('publish_images[%d] and [%d] are both %s %s %s/%s; remove one or give it another '
                              'version, os or arch' % (seen[record['image']], number, record['name'],
                                                       record['version'], record['os'], record['arch']))
        seen[record['image']] = number
        records.append(record)
    return records
