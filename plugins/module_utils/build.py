# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image aci_build makes: a source (an image layout, a root filesystem, an existing ACI, programs
and files of the host) and a manifest from the module's options, written at ``dest`` by ``aci_dest``."""

from __future__ import annotations

import os

from ansible_collections.aci.registry.plugins.module_utils import aci, aci_dest, hostfiles
from ansible_collections.aci.registry.plugins.module_utils.manifest import (
    MANIFEST_OPTIONS,
    ManifestError,
    manifest_from_options,
    validate_manifest,
)


def manifest_argument_spec():
    """aci_build's options that set manifest fields (MANIFEST_OPTIONS but _OUTSIDE_MANIFEST), each
    an option of its own and, all together, the suboptions of ``manifest``. A new dict on every call, because
    AnsibleModule may fill in a spec it validates."""
    return dict(
        exec=dict(type='list', elements='str'),
        user=dict(type='str'),
        group=dict(type='str'),
        supplementary_gids=dict(type='list', elements='int'),
        environment=dict(type='dict'),
        working_directory=dict(type='str'),
        ports=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            protocol=dict(type='str', default='tcp'),
            port=dict(type='int', required=True),
            count=dict(type='int'),
            socket_activated=dict(type='bool'),
        )),
        mount_points=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            path=dict(type='str', required=True),
            read_only=dict(type='bool'),
        )),
        event_handlers=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True, choices=['pre-start', 'post-stop']),
            exec=dict(type='list', elements='str', required=True),
        )),
        isolators=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            value=dict(type='raw', required=True),
        )),
        annotations=dict(type='dict'),
        dependencies=dict(type='list', elements='dict', options=dict(
            image_name=dict(type='str', required=True),
            image_id=dict(type='str'),
            labels=dict(type='dict'),
            size=dict(type='int'),
        )),
    )


def argument_spec():
    """aci_build's whole argument spec (aci_image_set checks each image of a set against it too)."""
    return dict(
        aci_dest.output_argument_spec(),
        src=dict(type='path'),
        rootfs=dict(type='path'),
        from_aci=dict(type='path'),
        programs=dict(type='list', elements='path'),
        files=dict(type='list', elements='dict', options=dict(
            src=dict(type='path', required=True),
            dest=dict(type='str', required=True),
            mode=dict(type='raw'),
        )),
        name=dict(type='str'),
        labels=dict(type='dict'),
        manifest=dict(type='dict', options=manifest_argument_spec()),
        **manifest_argument_spec()
    )


#: The manifest options that stay options of their own, never part of ``manifest``.
_OUTSIDE_MANIFEST = ('name', 'labels')

#: Each option ``manifest`` holds too is given one way or the other, never both.
MANIFEST_EXCLUSIVE = [('manifest', option) for option in MANIFEST_OPTIONS if option not in _OUTSIDE_MANIFEST]

#: aci_build's source options: one tree at most, and programs or files only on top of a tree.
MUTUALLY_EXCLUSIVE = [('src', 'rootfs', 'from_aci'), ('from_aci', 'programs'), ('from_aci', 'files')] + MANIFEST_EXCLUSIVE
REQUIRED_ONE_OF = [('src', 'rootfs', 'from_aci', 'programs', 'files')]


def _refuse_dest_inside(params):
    dest = os.path.abspath(params['dest'])
    for tree in (params['rootfs'], params['src']):
        if tree and os.path.commonpath([os.path.realpath(tree), os.path.realpath(os.path.dirname(dest))]) \
                == os.path.realpath(tree):
            raise aci.AciError('dest %s is inside %s; the image would contain itself' % (dest, tree))


def open_source(params):
    """The entries of the image to build: the tree or image the options name, with the host's files on top."""
    trees = dict((key, params[key]) for key in ('src', 'rootfs', 'from_aci'))
    source = aci.open_source(**trees) if any(v is not None for v in trees.values()) else None
    if params['programs'] or params['files']:
        source = hostfiles.HostFilesSource(source, params['programs'], params['files'])
    return source


class BuiltImage(aci_dest.ImageFile):
    """The ACI at ``dest`` that aci_build's options describe."""

    def prepare(self):
        params = self.params
        _refuse_dest_inside(params)
        source = open_source(params)
        if source.manifest is None and params['name'] is None:
            raise ManifestError(['name: required when building from rootfs, programs or files (an AC Identifier '
                                 'such as registry.example.com/app)'], 'the options')
        options = dict((option, params[option]) for option in MANIFEST_OPTIONS)
        # The manifest option holds the same options in one dict (mutually exclusive with each of them).
        options.update(params['manifest'] or {})
        manifest = manifest_from_options(options, base=source.manifest)
        self.warnings.extend(validate_manifest(manifest, source='the resulting manifest'))
        return aci.Image(manifest, source, owner_root=params['owner_root'])

    def result(self, current, desired, reasons):
        # The tree's own warnings (a socket skipped) are known once it has been read.
        self.warnings.extend(desired.warnings)
        return super().result(current, desired, reasons)
