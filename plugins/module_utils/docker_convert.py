# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image aci_from_docker makes: the Docker image of a ``docker save`` archive or an OCI layout,
squashed by ``docker_layers`` and given a manifest by ``docker_manifest``, written at ``dest`` by
``aci_dest``."""

from __future__ import annotations

from ansible_collections.aci.registry.plugins.module_utils import (
    aci, aci_dest, docker_archive, docker_layers, docker_manifest,
)


def argument_spec():
    """aci_from_docker's argument spec (aci_image_set checks each Docker image of a set against it too)."""
    return dict(
        aci_dest.output_argument_spec(),
        src=dict(type='path', required=True),
        name=dict(type='str', required=True),
        tag=dict(type='str'),
        platform=dict(type='str'),
        version=dict(type='str'),
    )


class ConvertedImage(aci_dest.ImageFile):
    """The ACI at ``dest`` converted from the Docker image that ``src``, ``tag`` and ``platform`` name."""

    def __init__(self, module):
        super().__init__(module)
        self.docker = None

    def prepare(self):
        params = self.params
        # Open until close(): the layers are read again to compare with dest and to write.
        self.docker = docker_archive.open_image(params['src'], params['tag'], params['platform'])
        source = docker_layers.LayerSource(self.docker)
        manifest, warnings = docker_manifest.image_manifest(self.docker, source, params['name'], params['version'])
        self.warnings.extend(warnings)
        return aci.Image(manifest, source, owner_root=params['owner_root'])

    def result(self, current, desired, reasons):
        docker = self.docker
        return dict(super().result(current, desired, reasons),
                    docker=dict(format=docker.format, reference=docker.reference, image_id=docker.config_digest,
                                platform=docker.platform, layers=len(docker.layers)))

    def close(self):
        if self.docker is not None:
            self.docker.close()
