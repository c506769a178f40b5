# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Making the ACI file at a module's ``dest`` match an image: the shared end of every module that
produces images (aci_build, aci_from_docker)."""

from __future__ import annotations

import os

from ansible_collections.aci.registry.plugins.module_utils import aci, files
from ansible_collections.aci.registry.plugins.module_utils.manifest import ManifestError, pretty_json

DEFAULT_MODE = 0o644


def output_argument_spec():
    """The argument spec of the options documented by the aci.registry.aci_output doc fragment."""
    return dict(
        compression=dict(type='str', default='gzip', choices=list(aci.COMPRESSIONS)),
        compression_level=dict(type='int'),
    )


def check_output(params):
    """Refuses output options no image can be written with: ``dest`` a directory, a level the compression lacks."""
    dest = os.path.abspath(params['dest'])
    if os.path.isdir(dest):
        raise aci.AciError('dest %s is a directory; give the path of the image file' % dest)
    aci.check_level(params['compression'], params['compression_level'])


def existing_manifest(dest):
    """The manifest of the image at ``dest`` for the diff, or ``None``."""
    try:
        return aci.read_manifest(dest)
    except (aci.AciError, ManifestError):
        return None


def converge(module, image):
    """Compares ``image`` with ``module.params['dest']`` and writes it when it differs.

    Uses the module's ``dest``, ``compression`` and ``compression_level``; returns the result
    dict (changed, image_id, tar_size, compression, manifest, size, and diff in diff mode).
    """
    params = module.params
    dest = params['dest']
    compression = params['compression']
    before = existing_manifest(dest) if module._diff and os.path.exists(dest) else None
    same, image_id, tar_size = False, None, None
    if module.check_mode:
        # Everything is read so that check mode reports the image ID the run would produce.
        same, image_id, tar_size = aci.compare_image(dest, image.chunks(), compression, exhaustive=True)
    elif aci.detect_compression(dest) == compression:
        same, image_id, tar_size = aci.compare_image(dest, image.chunks(), compression)
    if same:
        changed = files.apply_file_attributes(module, dest, False, default_mode=DEFAULT_MODE)
    else:
        changed = True
        if not module.check_mode:
            written = {}

            def writer(f):
                written['id_and_size'] = aci.write_image(f, image.chunks(), compression, params['compression_level'])

            files.write_file(module, dest, writer=writer, default_mode=DEFAULT_MODE)
            image_id, tar_size = written['id_and_size']
    result = dict(changed=changed, image_id=image_id, tar_size=tar_size, compression=compression,
                  manifest=image.manifest,
                  size=os.path.getsize(dest) if (same or not module.check_mode) else None)
    if module._diff:
        result['diff'] = dict(before_header=dest, after_header=dest,
                              before=pretty_json(before) if before is not None else '',
                              after=pretty_json(image.manifest))
    return result
