#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: aci_build
short_description: Build, validate and re-package appc container images (ACI)
version_added: 0.1.0
description:
  - Builds an App Container Image (appc spec 0.8.x), a tar holding exactly C(manifest) and
    C(rootfs/), at O(dest).
  - The image comes from an image layout directory (O(src)), from a root filesystem directory
    (O(rootfs)) plus a manifest given as options, or from an existing image (O(from_aci)) whose
    manifest is changed by the options, the C(actool patch-manifest) case used to publish a
    public image under your own name.
  - Programs and files of the host that runs the module can be added (O(programs), O(files)), alone
    or on top of O(rootfs) or O(src). Each program comes with every shared library the dynamic
    loader would load for it, found by reading the ELF files (never by running them or C(ldd)).
  - The manifest is checked against the appc rules before anything is written; every error names
    the field (for example C(app.ports[1].port)) and says what is allowed. Missing C(os) or
    C(arch) labels, which rkt needs, give a warning.
  - The output is reproducible, the same inputs give byte-identical output (sorted entries,
    canonical manifest JSON, numeric owners only, no time or file name in the gzip header). An
    existing O(dest) that already holds the same image is left alone and the task reports no
    change.
  - Files keep their type, mode (setuid, setgid and sticky bits included), owner, mtime (whole
    seconds) and extended attributes (except C(security.selinux), which labels the build host);
    hard links are stored as tar links, FIFOs and device nodes are kept, sockets are skipped with
    a warning.
  - The image is written to a temporary file next to O(dest) and renamed into place, so a failure
    or a kill leaves the previous image intact. O(mode) defaults to C(0644).
author:
  - aci.registry maintainers (!UNKNOWN)
options:
  src:
    description:
      - An image layout directory holding a C(manifest) file and a C(rootfs) directory, and
        nothing else.
      - The manifest options below, when given, change the layout's manifest.
      - Exactly one of O(src), O(rootfs) and O(from_aci) is required, unless O(programs) or O(files)
        give the whole root filesystem.
    type: path
  rootfs:
    description:
      - A directory whose content becomes the image's root filesystem; the manifest comes from
        the options below and O(name) is required.
    type: path
  programs:
    description:
      - Programs of the host that runs the module (absolute paths), each put into the root filesystem
        at its own path together with everything the dynamic loader needs to start it, resolved as
        glibc's C(ld.so) resolves them. The ELF interpreter (C(PT_INTERP)) at its exact path, every
        C(DT_NEEDED) library searched in C(DT_RPATH), C(DT_RUNPATH) (with C($ORIGIN)), the loader's
        cache C(/etc/ld.so.cache) and the default directories, recursively. C(LD_LIBRARY_PATH) plays no part.
      - Symlinks stay symlinks (the soname link and its target, symlinked directories such as a
        merged-C(/usr) C(/lib)), so the paths the loader uses exist in the image as on the host.
      - A static program needs nothing more. A script's C(#!) interpreter is resolved the same way.
      - A library that cannot be found fails the task, naming the program and the library. Nothing is
        ever executed.
      - Combines with O(rootfs) or O(src); a file that the root filesystem has too is an error. Not
        with O(from_aci).
    type: list
    elements: path
  files:
    description:
      - Single files of the host that runs the module, copied into the image as they are (no
        libraries are looked for).
      - Combines with O(programs), O(rootfs) and O(src) as O(programs) does.
    type: list
    elements: dict
    suboptions:
      src:
        description: The file on the host.
        type: path
        required: true
      dest:
        description: Its absolute path in the image, for example C(/bin/app1).
        type: str
        required: true
      mode:
        description: Its mode in the image (for example V('0755')); the file's own mode when unset.
        type: raw
  from_aci:
    description:
      - An existing image (compressed with gzip, bzip2 or xz, or not; found out from its content)
        whose root filesystem is copied as it is and whose manifest is changed by the options
        below.
      - The image is checked first (only C(manifest) and C(rootfs/) entries, no absolute or
        C(..) paths, no duplicates) and may be O(dest) itself.
    type: path
  name:
    description:
      - The image name, an AC Identifier such as C(registry.example.com/tools/etcd)
        (lower-case letters, digits and the separators C(-._~/)).
    type: str
  labels:
    description:
      - Labels such as C(version), C(os) and C(arch); merged into the existing labels, a V(null)
        value removes a label.
      - C(os)/C(arch) must be a pair appc knows, for example C(linux) with C(amd64), C(i386),
        C(aarch64), C(armv6l), C(armv7l), C(ppc64le) or C(s390x).
      - Quote versions (V("3.10")) so YAML does not turn them into numbers.
    type: dict
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - action_common_attributes.files  # not ansible.builtin.: ansible-core 2.19 resolves that to the files fragment
  - ansible.builtin.files
  - aci.registry.aci_output
  - aci.registry.aci_manifest
seealso:
  - name: appc image format
    description: The App Container Image specification.
    link: https://github.com/appc/spec/blob/master/spec/aci.md
'''

EXAMPLES = r'''
- name: Build an image from a root filesystem
  aci.registry.aci_build:
    rootfs: /srv/build/hello/rootfs
    dest: /srv/images/hello-1.0.0-linux-amd64.aci
    name: registry.example.com/hello
    labels:
      version: "1.0.0"
      os: linux
      arch: amd64
    exec: [/usr/bin/hello, --listen, "0.0.0.0:8080"]
    user: "1000"
    group: "1000"
    environment:
      HELLO_MODE: production
    ports:
      - name: http
        port: 8080
    owner_root: true

- name: The walkthrough's app1 - bash with its libraries, and a script
  aci.registry.aci_build:
    programs: [/usr/bin/bash]
    files:
      - src: /srv/build/app1.sh
        dest: /bin/app1
        mode: "0755"
    dest: /srv/images/app1-v0.0.1-linux-amd64.aci
    name: registry.example.com/app1
    labels: {version: v0.0.1, os: linux, arch: amd64}
    exec: [/usr/bin/bash, -c, /bin/app1]
    owner_root: true

- name: Package an image layout directory (manifest + rootfs/) as xz
  aci.registry.aci_build:
    src: /srv/build/tools
    dest: /srv/images/tools.aci
    compression: xz

- name: Re-publish a public etcd image under our own name
  aci.registry.aci_build:
    from_aci: /srv/downloads/etcd-v3.5.0-linux-amd64.aci
    dest: /srv/images/etcd-3.5.0-linux-amd64.aci
    name: registry.example.com/mirror/etcd
    annotations:
      homepage: https://registry.example.com/mirror
'''

RETURN = r'''
image_id:
  description: The image ID, C(sha512-) and the hex SHA-512 of the uncompressed tar.
  returned: always
  type: str
  sample: sha512-5f7a0b0b2c7f3d1e...
size:
  description: Size of O(dest) in bytes; V(null) in check mode when the image would change.
  returned: always
  type: int
  sample: 4194304
tar_size:
  description: Size of the uncompressed tar in bytes.
  returned: always
  type: int
  sample: 12582912
compression:
  description: Compression of O(dest).
  returned: always
  type: str
  sample: gzip
manifest:
  description: The image manifest written, in canonical key order.
  returned: always
  type: dict
  sample:
    acKind: ImageManifest
    acVersion: 0.8.11
    name: registry.example.com/hello
    labels:
      - name: version
        value: 1.0.0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import build, converge


def main():
    module = AnsibleModule(
        argument_spec=build.argument_spec(),
        mutually_exclusive=build.MUTUALLY_EXCLUSIVE,
        required_one_of=build.REQUIRED_ONE_OF,
        supports_check_mode=True,
        add_file_common_args=True,
    )
    converge.run(module, build.BuiltImage(module))


if __name__ == '__main__':
    main()
