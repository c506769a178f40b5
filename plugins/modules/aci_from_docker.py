#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: aci_from_docker
short_description: Convert a Docker image archive or OCI image layout into an appc container image (ACI)
version_added: 0.1.0
description:
  - Converts the image in a C(docker save) archive, or in an OCI image layout directory, into an
    App Container Image (appc spec 0.8.x) at O(dest), the way C(docker2aci) does, so that a
    Docker image can be signed and published in an appc registry and run by rkt.
  - Both C(docker save) layouts are read, the classic one (C(manifest.json), C(<id>.json),
    C(<id>/layer.tar)) and the one Docker 25 and later write (C(blobs/sha256/...) with
    C(index.json) and C(oci-layout)), as a tar (plain, gzip, bzip2 or xz compressed) or unpacked
    into a directory. Layers may be plain tars or gzip, bzip2, xz or zstd compressed (zstd needs
    the Python package C(zstandard)).
  - The layers are squashed into one root filesystem in order, honouring whiteouts
    (C(.wh.<name>) deletes a file or directory of the layers below, C(.wh..wh..opq) empties a
    directory of theirs), files replacing directories and the reverse, parent directories that
    are symlinks, and hard links across layers. Files keep type, mode, owner, mtime and
    extended attributes. Nothing is extracted to disk; the layers are read as streams.
  - Every layer is checked against the digests the archive gives (the config's C(diff_ids), and
    blob digests where the archive names blobs by digest); a mismatch stops the conversion.
  - "The manifest comes from the image config: C(exec) is Entrypoint followed by Cmd (a bare
    command name is looked up along the image's C(PATH)); C(user) and C(group) from User
    (C(uid), C(uid:gid), C(name) or C(name:group); a user given alone gets its primary group
    from the image's C(/etc/passwd), or 0; no User means 0:0); C(workingDirectory) from
    WorkingDir; C(environment) from Env; one port per exposed port, named C(<port>-<protocol>);
    one mount point per volume, named C(volume-) and the path (C(/var/lib/data) gives
    C(volume-var-lib-data)); labels C(os) and C(arch) from the config's os, architecture and
    variant in appc's names (C(amd64), C(i386), C(aarch64), C(armv7l), C(armv6l), C(ppc64le),
    C(s390x)); label C(version) from the tag."
  - "Annotations: C(created), C(authors), C(appc.io/docker/originalname), C(registryurl),
    C(repository), C(tag), C(imageid) (the Docker image ID), C(entrypoint) and C(cmd) (JSON, as
    docker2aci writes them), and every Docker label whose key is, or can be made, an AC
    Identifier (lower-cased, invalid characters replaced by C(-)); a label that cannot be kept
    gives a warning."
  - The output is reproducible, the same archive and options give byte-identical output, and
    an existing O(dest) that already holds the same image is left alone. The image is written to
    a temporary file next to O(dest) and renamed into place, so a failure leaves the previous
    image intact. O(mode) defaults to C(0644).
  - What the conversion leaves out or changes (a label skipped or renamed, a command not found
    along C(PATH), a missing C(os) or C(arch)) is reported as a task warning.
author:
  - aci.registry maintainers (!UNKNOWN)
options:
  src:
    description:
      - The C(docker save) archive (a tar, optionally compressed), or a directory holding an OCI
        image layout or an unpacked C(docker save) archive.
    type: path
    required: true
  name:
    description:
      - The appc name to publish the image under, an AC Identifier such as
        C(registry.example.com/mirror/nginx).
    type: str
    required: true
  tag:
    description:
      - The image to convert when O(src) holds several, as C(repository:tag) (C(nginx:1.25),
        C(docker.io/library/nginx:1.25) and C(library/nginx:1.25) are the same image), or a bare
        tag for OCI layouts that record only tags.
      - Required when O(src) holds more than one image; an unknown or ambiguous tag fails.
      - Its tag part becomes the C(version) label unless O(version) is given.
    type: str
  platform:
    description:
      - The platform to take from a multi-platform OCI index, as C(os/arch) or
        C(os/arch/variant) in Docker's spelling (C(linux/arm64), C(linux/arm/v7)).
      - Only needed when the layout holds the image for more than one platform; otherwise it is
        checked against the image config.
    type: str
  version:
    description:
      - The C(version) label; defaults to the tag of the image (C(latest) when it has none).
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files  # not ansible.builtin.: ansible-core 2.19 resolves that to the files fragment
  - ansible.builtin.files
  - aci.registry.aci_output
notes:
  - Every layer is read once to work out the merged root filesystem and check digests, then again
    to compare with O(dest) and, when it differs, to write; a plain (uncompressed) C(docker save)
    tar is the fastest input.
  - "Differences from docker2aci: the image is one squashed ACI, not one per layer with
    dependencies; Docker labels become annotations rather than C(app.userLabels); a user given
    without a group gets its primary group from the image, not a group equal to the user."
seealso:
  - module: aci.registry.aci_build
  - name: docker2aci
    description: The reference converter from Docker images to ACIs.
    link: https://github.com/appc/docker2aci
  - name: OCI image layout
    description: The layout of index.json, oci-layout and blobs/ that Docker 25 and later also write.
    link: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
'''

EXAMPLES = r'''
- name: Save an image on a build host
  ansible.builtin.command: docker save -o /srv/build/nginx.tar nginx:1.25
  args:
    creates: /srv/build/nginx.tar

- name: Convert it for the registry
  aci.registry.aci_from_docker:
    src: /srv/build/nginx.tar
    dest: /srv/images/nginx-1.25-linux-amd64.aci
    name: registry.example.com/mirror/nginx

- name: One image out of an archive saved with several (docker save -o all.tar nginx:1.25 redis:7)
  aci.registry.aci_from_docker:
    src: /srv/build/all.tar
    tag: redis:7
    dest: /srv/images/redis-7-linux-amd64.aci
    name: registry.example.com/mirror/redis
    version: "7.2.4"

- name: The arm64 image of a multi-platform OCI layout (skopeo copy --all docker://... oci:/srv/build/etcd)
  aci.registry.aci_from_docker:
    src: /srv/build/etcd
    platform: linux/arm64
    dest: /srv/images/etcd-3.5.0-linux-aarch64.aci
    name: registry.example.com/mirror/etcd
    compression: xz
'''

RETURN = r'''
image_id:
  description:
    - The image ID of the ACI, C(sha512-) and the hex SHA-512 of its uncompressed tar, as C(rkt image list) shows it.
    - Not the Docker image ID, which is RV(docker.image_id).
  returned: always
  type: str
  sample: sha512-0c6f3e9b1d2a7c48...
size:
  description: Size of O(dest) in bytes; V(null) in check mode when the image would change.
  returned: always
  type: int
  sample: 70254592
tar_size:
  description:
    - Size of the uncompressed tar in bytes, the squashed root filesystem and the manifest.
    - Less than the layers' sum when upper layers delete or replace files of lower ones.
  returned: always
  type: int
  sample: 191889408
compression:
  description: Compression of O(dest); the compression of the Docker layers plays no part.
  returned: always
  type: str
  sample: gzip
manifest:
  description: The image manifest written, converted from the Docker image config, in canonical key order.
  returned: always
  type: dict
  sample:
    acKind: ImageManifest
    acVersion: 0.8.11
    name: registry.example.com/mirror/nginx
    labels:
      - name: version
        value: "1.25"
      - name: os
        value: linux
      - name: arch
        value: amd64
docker:
  description: The Docker image that was converted.
  returned: always
  type: dict
  contains:
    format:
      description: V(docker-archive) (read through C(manifest.json)) or V(oci-layout) (through C(index.json)).
      type: str
      sample: docker-archive
    reference:
      description: The reference the image was chosen by or is known as, V(null) when untagged.
      type: str
      sample: nginx:1.25
    image_id:
      description: The Docker image ID, the digest of its config.
      type: str
      sample: sha256:a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6
    platform:
      description: The platform of the image, as C(os/arch[/variant]).
      type: str
      sample: linux/arm64/v8
    layers:
      description: Number of layers squashed.
      type: int
      sample: 3
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, docker_convert


def main():
    module = AnsibleModule(
        argument_spec=docker_convert.argument_spec(),
        supports_check_mode=True,
        add_file_common_args=True,
    )
    converge.run(module, docker_convert.ConvertedImage(module))


if __name__ == '__main__':
    main()
