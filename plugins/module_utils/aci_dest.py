# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACI file at a module's ``dest``: the converge resource every module that produces images
(aci_build, aci_from_docker) is, with the options the aci.registry.aci_output fragment documents.

A subclass says which image belongs there (``prepare``); this file compares it with what is at
``dest`` and writes it when it differs.
"""

from __future__ import annotations

import collections
import os

from ansible_collections.aci.registry.plugins.module_utils import aci, converge, files
from ansible_collections.aci.registry.plugins.module_utils.manifest import ManifestError, pretty_json

DEFAULT_MODE = 0o644

#: What is at ``dest``: its ``compression`` (``None``: no image there) and, in diff mode only, its ``manifest``.
Existing = collections.namedtuple('Existing', 'compression manifest')


def output_argument_spec():
    """The argument spec of the options documented by the aci.registry.aci_output doc fragment."""
    return dict(
        dest=dict(type='path', required=True),
        compression=dict(type='str', default='gzip', choices=list(aci.COMPRESSIONS)),
        compression_level=dict(type='int'),
        owner_root=dict(type='bool', default=False),
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


class ImageFile(converge.Resource):
    """The image file at ``dest``: current is what is there, desired the ``aci.Image`` to write."""

    errors = (ManifestError, aci.AciError)

    def __init__(self, module):
        super().__init__(module)
        self.dest = self.params['dest']
        # compare_image's verdict, (same, image_id, tar_size): read once, by differences().
        self.compared = (False, None, None)

    def prepare(self):
        """The ``aci.Image`` that belongs at ``dest``, checked; adds its warnings to ``self.warnings``."""
        raise NotImplementedError

    def current(self):
        # Reading the manifest costs a decompression of the image's head: only the diff needs it.
        manifest = existing_manifest(self.dest) if self.module._diff and os.path.exists(self.dest) else None
        return Existing(aci.detect_compression(self.dest), manifest)

    def desired(self, current):
        check_output(self.params)
        image = self.prepare()
        # Here, not only when writing: check mode must fail where the run would.
        files.check_writable_dir(self.module, self.dest)
        return image

    def differences(self, current, desired):
        compression = self.params['compression']
        if self.module.check_mode or current.compression == compression:
            # Check mode reads everything, so that it reports the image ID the run would produce.
            self.compared = aci.compare_image(self.dest, desired.chunks(), compression,
                                              exhaustive=self.module.check_mode)
        if current.compression is None:
            return ['missing']
        if current.compression != compression:
            return ['compression']
        return [] if self.compared[0] else ['content']

    def apply(self, current, desired, reasons):
        written = []

        def writer(f):
            written.append(aci.write_image(f, desired.chunks(), self.params['compression'],
                                           self.params['compression_level']))

        files.write_file(self.module, self.dest, writer=writer, default_mode=DEFAULT_MODE)
        image_id, tar_size = written[0]
        return dict(image_id=image_id, tar_size=tar_size, size=os.path.getsize(self.dest))

    def settle(self, changed):
        # A written image got its attributes from write_file; one left alone may still need them.
        return changed or files.apply_file_attributes(self.module, self.dest, False, default_mode=DEFAULT_MODE)

    def result(self, current, desired, reasons):
        _same, image_id, tar_size = self.compared
        return dict(image_id=image_id, tar_size=tar_size, compression=self.params['compression'],
                    manifest=desired.manifest, size=None if reasons else os.path.getsize(self.dest))

    def diff(self, current, desired):
        return dict(before_header=self.dest, after_header=self.dest,
                    before=pretty_json(current.manifest) if current.manifest is not None else '',
                    after=pretty_json(desired.manifest))

    def failure(self, error):
        return dict(errors=error.errors) if isinstance(error, ManifestError) else {}
