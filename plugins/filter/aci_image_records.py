# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aci_image_records filter: the publish role's images, each normalised once into one record."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.module_utils import image_record


def aci_image_records(images, domain, build_dir, compression='gzip'):
    """The records of ``images`` (see plugins/module_utils/image_record.py); a bad entry fails the task."""
    try:
        return image_record.image_records(images, domain, build_dir, compression)
    except image_record.RecordError as e:
        raise AnsibleFilterError('aci_image_records: %s' % e)


class FilterModule:
    def filters(self):
        return {'aci_image_records': aci_image_records}
