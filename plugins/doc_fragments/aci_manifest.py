# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci_build's manifest options, as options of their own and as the suboptions of O(manifest), which holds
them all in one dict (build.manifest_argument_spec is the spec of both). The two copies of the text are
one literal because ansible-test reads a fragment without running it; tests/unit/plugins/modules/
test_aci_build.py checks that they stay the same."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r'''
options:
  exec:
    description:
      - The command the image runs, as a list; the executable should be an absolute path inside
        the rootfs. Replaces C(app.exec).
    type: list
    elements: str
  user:
    description:
      - User to run the app as; a name, a numeric UID, or an absolute path whose owner is used.
      - Required (with O(group)) whenever the manifest has an C(app).
    type: str
  group:
    description:
      - Group to run the app as; a name, a numeric GID, or an absolute path whose group is used.
    type: str
  supplementary_gids:
    description:
      - Additional group IDs of the app process. Replaces C(app.supplementaryGIDs).
    type: list
    elements: int
  environment:
    description:
      - Environment variables of the app; merged by name, a V(null) value removes a variable.
      - Names start with a letter or C(_) and go on with letters, digits, C(_), C(.) or C(-).
    type: dict
  working_directory:
    description:
      - Absolute path of the app's working directory.
    type: str
  ports:
    description:
      - Ports the app listens on. Replaces C(app.ports).
    type: list
    elements: dict
    suboptions:
      name:
        description: Port name, an AC Name (lower-case letters, digits and C(-)), for example C(client).
        type: str
        required: true
      protocol:
        description: Transport protocol, usually C(tcp) or C(udp).
        type: str
        default: tcp
      port:
        description: Port number, 1 to 65535.
        type: int
        required: true
      count:
        description: Number of consecutive ports starting at O(ports[].port).
        type: int
      socket_activated:
        description: Whether the app expects the port as a socket-activated file descriptor.
        type: bool
  mount_points:
    description:
      - Places where the app expects volumes. Replaces C(app.mountPoints).
    type: list
    elements: dict
    suboptions:
      name:
        description: Mount point name, an AC Name.
        type: str
        required: true
      path:
        description: Absolute path inside the image.
        type: str
        required: true
      read_only:
        description: Whether the volume is mounted read-only.
        type: bool
  event_handlers:
    description:
      - Commands run before the app starts (C(pre-start)) or after it stops (C(post-stop)).
        Replaces C(app.eventHandlers).
    type: list
    elements: dict
    suboptions:
      name:
        description: When to run.
        type: str
        required: true
        choices: [pre-start, post-stop]
      exec:
        description: The command, as a list.
        type: list
        elements: str
        required: true
  isolators:
    description:
      - Isolators as appc defines them, for example C(resource/memory) with value
        C({"limit":"512M"}) or C(os/linux/capabilities-retain-set) with value
        C({"set":["CAP_NET_BIND_SERVICE"]}). Replaces C(app.isolators).
    type: list
    elements: dict
    suboptions:
      name:
        description: Isolator name, an AC Identifier.
        type: str
        required: true
      value:
        description: Isolator value, as the spec defines it for that isolator.
        type: raw
        required: true
  annotations:
    description:
      - Annotations; merged by name, a V(null) value removes one.
      - C(created) must be an RFC 3339 date-time; C(homepage) and C(documentation) must be http or
        https URLs. C(created) also becomes the mtime of the manifest entry (otherwise 0), so it
        does not make builds differ unless it changes.
    type: dict
  dependencies:
    description:
      - Images whose files are laid down before this one's. Replaces C(dependencies).
    type: list
    elements: dict
    suboptions:
      image_name:
        description: Name of the dependency, an AC Identifier.
        type: str
        required: true
      image_id:
        description: Image ID the dependency must have, C(sha512-) followed by hex digits.
        type: str
      labels:
        description: Labels the dependency must have.
        type: dict
      size:
        description: Size of the dependency in bytes.
        type: int
  manifest:
    description:
      - The manifest options (O(exec), O(user), O(group), O(supplementary_gids), O(environment),
        O(working_directory), O(ports), O(mount_points), O(event_handlers), O(isolators), O(annotations),
        O(dependencies)) in one dict, with the same names, types and effects. A role can pass it on as it
        was given, so a field the module learns later needs no change there.
      - Mutually exclusive with each of those options.
    type: dict
    version_added: 0.2.0
    suboptions:
      exec:
        description:
          - The command the image runs, as a list; the executable should be an absolute path inside
            the rootfs. Replaces C(app.exec).
        type: list
        elements: str
      user:
        description:
          - User to run the app as; a name, a numeric UID, or an absolute path whose owner is used.
          - Required (with O(group)) whenever the manifest has an C(app).
        type: str
      group:
        description:
          - Group to run the app as; a name, a numeric GID, or an absolute path whose group is used.
        type: str
      supplementary_gids:
        description:
          - Additional group IDs of the app process. Replaces C(app.supplementaryGIDs).
        type: list
        elements: int
      environment:
        description:
          - Environment variables of the app; merged by name, a V(null) value removes a variable.
          - Names start with a letter or C(_) and go on with letters, digits, C(_), C(.) or C(-).
        type: dict
      working_directory:
        description:
          - Absolute path of the app's working directory.
        type: str
      ports:
        description:
          - Ports the app listens on. Replaces C(app.ports).
        type: list
        elements: dict
        suboptions:
          name:
            description: Port name, an AC Name (lower-case letters, digits and C(-)), for example C(client).
            type: str
            required: true
          protocol:
            description: Transport protocol, usually C(tcp) or C(udp).
            type: str
            default: tcp
          port:
            description: Port number, 1 to 65535.
            type: int
            required: true
          count:
            description: Number of consecutive ports starting at O(ports[].port).
            type: int
          socket_activated:
            description: Whether the app expects the port as a socket-activated file descriptor.
            type: bool
      mount_points:
        description:
          - Places where the app expects volumes. Replaces C(app.mountPoints).
        type: list
        elements: dict
        suboptions:
          name:
            description: Mount point name, an AC Name.
            type: str
            required: true
          path:
            description: Absolute path inside the image.
            type: str
            required: true
          read_only:
            description: Whether the volume is mounted read-only.
            type: bool
      event_handlers:
        description:
          - Commands run before the app starts (C(pre-start)) or after it stops (C(post-stop)).
            Replaces C(app.eventHandlers).
        type: list
        elements: dict
        suboptions:
          name:
            description: When to run.
            type: str
            required: true
            choices: [pre-start, post-stop]
          exec:
            description: The command, as a list.
            type: list
            elements: str
            required: true
      isolators:
        description:
          - Isolators as appc defines them, for example C(resource/memory) with value
            C({"limit":"512M"}) or C(os/linux/capabilities-retain-set) with value
            C({"set":["CAP_NET_BIND_SERVICE"]}). Replaces C(app.isolators).
        type: list
        elements: dict
        suboptions:
          name:
            description: Isolator name, an AC Identifier.
            type: str
            required: true
          value:
            description: Isolator value, as the spec defines it for that isolator.
            type: raw
            required: true
      annotations:
        description:
          - Annotations; merged by name, a V(null) value removes one.
          - C(created) must be an RFC 3339 date-time; C(homepage) and C(documentation) must be http or
            https URLs. C(created) also becomes the mtime of the manifest entry (otherwise 0), so it
            does not make builds differ unless it changes.
        type: dict
      dependencies:
        description:
          - Images whose files are laid down before this one's. Replaces C(dependencies).
        type: list
        elements: dict
        suboptions:
          image_name:
            description: Name of the dependency, an AC Identifier.
            type: str
            required: true
          image_id:
            description: Image ID the dependency must have, C(sha512-) followed by hex digits.
            type: str
          labels:
            description: Labels the dependency must have.
            type: dict
          size:
            description: Size of the dependency in bytes.
            type: int
'''
