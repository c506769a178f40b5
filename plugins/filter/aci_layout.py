# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aci_layout filter: web-root paths of an image, from the one layout module."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.module_utils import webroot


def _version(image):
    """The image's version; a mirrored or converted image defaults to its source's tag
    (``upstream: quay.io/x:v1``, ``docker_tag: example/hello:2.0``)."""
    if image.get('version'):
        return str(image['version'])
    for source in ('upstream', 'docker_tag'):
        name, sep, tag = (image.get(source) or '').rpartition(':')
        if sep and '/' not in tag:
            return tag
    return ''


def aci_layout(image, domain):
    """``{name, path, version, image, signature, discovery}`` for an image dict with ``name``
    (the path below the domain), ``version`` (or an ``upstream`` name with a tag) and optional
    ``os``/``arch``."""
    if not isinstance(image, dict) or not image.get('name') or not _version(image):
        raise AnsibleFilterError('aci_layout: expected an image with name and version (or an upstream '
                                 'name:tag), got %r' % (image,))
    name = webroot.full_name(domain, image['name'])
    version = _version(image)
    os_name, arch = image.get('os', 'linux'), image.get('arch', 'amd64')
    try:
        path = webroot.split_name(name, domain)
        relpath = webroot.image_relpath(path, version, os_name, arch)
        signature = webroot.signature_relpath(path, version, os_name, arch)
    except webroot.LayoutError as e:
        raise AnsibleFilterError('aci_layout: %s' % e)
    return dict(name=name, path=path, version=version, image=relpath, signature=signature,
                discovery=webroot.discovery_relpath(path))


class FilterModule:
    def filters(self):
        return {'aci_layout': aci_layout}
