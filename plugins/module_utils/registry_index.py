# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A registry's machine-readable index, ``/index.json``: one record per image, written and read back.

``records`` turns the images aci_webroot is given into the one record per image that both the
index and the catalog page show (URLs, the ``latest`` mark, when it was published, its manifest at a
glance), so the two can never disagree. ``render`` gives the index's bytes: sorted keys, a fixed
order of images and no timestamp of its own, so an unchanged registry renders the same bytes (and is
not rewritten) and every replica serves the same file. ``parse`` reads an index back and refuses one
that is not this collection's, or of another format version, with what to do about it.

Layering: ``webroot`` <- this module <- ``discovery`` <- ``catalog`` <- ``registry_site``.
"""

from __future__ import annotations

import json
import re

from ansible_collections.aci.registry.plugins.module_utils import webroot

FORMAT = 'aci.registry/index'
FORMAT_VERSION = 1
# ISO 8601 in UTC, to the second: sorts as text, and reads the same in every time zone.
_PUBLISHED = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$')
IMAGE_KEYS = ('name', 'version', 'os', 'arch', 'latest', 'size', 'unpacked_size', 'image_id', 'published',
              'exec', 'labels', 'image_url', 'signature_url')


class IndexFormatError(ValueError):
    """An index that cannot be read as this collection's; the message says what is wrong and what to do."""


def _published(image):
    published = image.get('published') or ''
    if published and not _PUBLISHED.match(published):
        raise webroot.LayoutError('image %s %s: published %r is not an ISO 8601 UTC time such as 2026-12-03T07:30:00Z'
                                  % (image['name'], image['version'], published))
    return published


def _record(domain, image, port, latest):
    path = webroot.split_name(image['name'], domain)
    version, os_name, arch = image['version'], image['os'], image['arch']
    return dict(
        name=image['name'], version=version, os=os_name, arch=arch, latest=latest,
        size=int(image.get('size') or 0), unpacked_size=int(image.get('unpacked_size') or 0),
        image_id=image.get('image_id') or '', published=_published(image),
        exec=[str(arg) for arg in image.get('exec') or []],
        labels=dict((str(k), str(v)) for k, v in sorted((image.get('labels') or {}).items())),
        image_url=webroot.url(domain, webroot.image_relpath(path, version, os_name, arch), port),
        signature_url=webroot.url(domain, webroot.signature_relpath(path, version, os_name, arch), port))


def records(domain, images, port=443):
    """One record per image (keys ``IMAGE_KEYS``): by name, newest version first, then os/arch."""
    ordered = sorted(images, key=lambda i: (i['os'], i['arch']))
    ordered.sort(key=lambda i: webroot.version_key(i['version']), reverse=True)
    ordered.sort(key=lambda i: i['name'])
    latest = webroot.latest_versions(images)
    return [_record(domain, image, port, latest[(image['name'], image['os'], image['arch'])] == image['version'])
            for image in ordered]


def document(domain, images, port=443, signer_fingerprint=''):
    """The index as a dict: format, domain, signer, key URL and the image records."""
    return dict(format=FORMAT, format_version=FORMAT_VERSION, domain=domain.rstrip('/'),
                signer_fingerprint=signer_fingerprint, key_url=webroot.url(domain, webroot.PUBKEYS_FILE, port),
                images=records(domain, images, port))


def render(domain, images, port=443, signer_fingerprint=''):
    """The bytes of ``/index.json``: the same inputs always give the same bytes."""
    text = json.dumps(document(domain, images, port, signer_fingerprint), sort_keys=True, indent=1,
                      separators=(',', ': '), ensure_ascii=True)
    return (text + '\n').encode('ascii')


def parse(data, where):
    """The index document in ``data`` (bytes read from ``where``); refuses what is not an index of this format."""
    fix = ('Point at the root of a registry laid out by aci.registry.aci_webroot (it writes %s), '
           'or run it again to rewrite the index.' % webroot.INDEX_FILE)
    try:
        doc = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as e:
        raise IndexFormatError('%s is not JSON (%s): it is not a registry index, or it is damaged. %s' % (where, e, fix))
    if not isinstance(doc, dict) or doc.get('format') != FORMAT:
        raise IndexFormatError('%s is JSON but not an aci.registry index (no "format": "%s"). %s' % (where, FORMAT, fix))
    if doc.get('format_version') != FORMAT_VERSION:
        raise IndexFormatError('%s is index format version %r; this collection reads version %d. Use the aci.registry '
                               'release that wrote it, or republish with this one.'
                               % (where, doc.get('format_version'), FORMAT_VERSION))
    images = doc.get('images')
    if not isinstance(images, list) or not all(isinstance(i, dict) and set(IMAGE_KEYS) <= set(i) for i in images):
        raise IndexFormatError('%s has no valid list of images (each with %s): it is damaged. %s'
                               % (where, ', '.join(IMAGE_KEYS), fix))
    return doc
