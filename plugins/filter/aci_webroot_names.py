# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aci_webroot_names filter: the file names of a registry web root, from the one layout module,
for roles and templates (the server's nginx.conf.j2) that must agree with the modules."""

from __future__ import annotations

import posixpath

from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.module_utils import webroot


def aci_webroot_names(root=None):
    """The layout's names; with ``root`` (the web root directory) also the absolute paths of its fixed files."""
    names = dict(
        pubkeys_file=webroot.PUBKEYS_FILE, discovery_dir=webroot.DISCOVERY_DIR, catalog_file=webroot.CATALOG_FILE,
        index_file=webroot.INDEX_FILE, image_ext=webroot.IMAGE_EXT, signature_ext=webroot.SIGNATURE_EXT,
        latest=webroot.LATEST_VERSION, file_template=webroot.FILE_TEMPLATE,
        latest_alias_pattern=webroot.latest_alias_pattern(), content_types=dict(webroot.CONTENT_TYPES))
    if root is None:
        return names
    if not isinstance(root, str) or not posixpath.isabs(root):
        raise AnsibleFilterError('aci_webroot_names: the input must be the absolute path of the web root '
                                 '(or nothing), got %r' % (root,))
    for key in ('pubkeys_file', 'discovery_dir', 'catalog_file', 'index_file'):
        names[key.rsplit('_', 1)[0] + '_path'] = posixpath.join(root, names[key])
    return names


class FilterModule:
    def filters(self):
        return {'aci_webroot_names': aci_webroot_names}
