# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aci_layout filter: web-root paths of an image, from the one layout module."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.module_utils import image_record, webroot


def aci_layout(image, domain):
    """``{name, path, version, image, signature, discovery}`` for an image dict with ``name``
    (the path below the domain), ``version`` (or an ``upstream`` name with a tag) and optional
    ``os``/``arch``."""
    version = image_record.default_version(image) if isinstance(image, dict) else ''
    if not isinstance(image, dict) or not image.get('name') or not version:
        raise AnsibleFilterError('aci_layout: expected an image with name and version (or an upstream '
                                 'name:tag), got %r' % (image,))
    try:
        layout = image_record.layout_paths(domain, image['name'], version, image.get('os') or image_record.DEFAULT_OS,
                                           image.get('arch') or image_record.DEFAULT_ARCH)
    except webroot.LayoutError as e:
        raise AnsibleFilterError('aci_layout: %s' % e)
    return dict(layout, version=version)


class FilterModule:
    def filters(self):
        return {'aci_layout': aci_layout}
