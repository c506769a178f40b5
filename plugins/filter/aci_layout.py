# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aci_layout filter: web-root paths of an image, from the one layout module."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.module_utils import webroot


def aci_layout(image, domain):
    """``{name, path, image, signature, discovery}`` for an image dict with ``name``
    (the path below the domain), ``version`` and optional ``os``/``arch``."""
    if not isinstance(image, dict) or not image.get('name') or not image.get('version'):
        raise AnsibleFilterError('aci_layout: expected an image with name and version, got %r' % (image,))
    name = webroot.full_name(domain, image['name'])
    os_name, arch = image.get('os', 'linux'), image.get('arch', 'amd64')
    try:
        path = webroot.split_name(name, domain)
        relpath = webroot.image_relpath(path, str(image['version']), os_name, arch)
        signature = webroot.signature_relpath(path, str(image['version']), os_name, arch)
    except webroot.LayoutError as e:
        raise AnsibleFilterError('aci_layout: %s' % e)
    return dict(name=name, path=path, image=relpath, signature=signature,
                discovery=webroot.discovery_relpath(path))


class FilterModule(object):
    def filters(self):
        return {'aci_layout': aci_layout}
