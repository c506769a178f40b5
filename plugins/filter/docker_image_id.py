# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_image_id filter: the ID an image in a docker save archive gets when it is loaded."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.module_utils import docker_archive
from ansible_collections.aci.registry.plugins.module_utils.streams import AciError


def docker_image_id(src, tag):
    """``sha256:<hex>``, the config digest of the image ``tag`` names in the archive ``src``:
    what ``docker image inspect`` (and, without the prefix, ``podman image inspect``) reports."""
    if not isinstance(src, str) or not src or not isinstance(tag, str) or not tag:
        raise AnsibleFilterError('docker_image_id: expected the path of an image archive and a repository:tag, got %r and %r'
                                 % (src, tag))
    try:
        with docker_archive.open_image(src, tag) as image:
            return image.config_digest
    except AciError as e:
        raise AnsibleFilterError('docker_image_id: %s' % e)


class FilterModule:
    def filters(self):
        return {'docker_image_id': docker_image_id}
