# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Docker image config as an appc image manifest, following docker2aci.

Entrypoint and Cmd become the app's exec (a bare command looked up along the image's PATH in the
squashed layers), Env, User, WorkingDir, ExposedPorts and Volumes its settings, the platform the
os and arch labels, the reference, tag, image ID, author and creation time annotations
(``appc.io/docker/...``), and Docker labels annotations where their keys can be AC Identifiers.
What appc cannot say is skipped with a warning.

Public API:

* ``image_manifest(image, source, name, version=None)`` -> ``(manifest, warnings)``: the
  validated appc manifest of a ``docker_archive.DockerImage`` squashed by a
  ``docker_layers.LayerSource``.
* ``appc_os_arch(os, arch, variant=None)`` -> ``(os, arch)`` in appc's names.
* ``sanitize_ac_name(text)`` and ``sanitize_ac_identifier(text)`` -> str (may be empty).
* ``ANNOTATION_PREFIX``, ``DEFAULT_PATH``.
"""

from __future__ import annotations

import json
import posixpath
import re

from ansible_collections.aci.registry.plugins.module_utils.docker_archive import (
    is_bare_tag,
    parse_reference,
    platform_text,
)
from ansible_collections.aci.registry.plugins.module_utils.manifest import (
    VALID_OS_ARCH,
    check_manifest,
    is_rfc3339,
    manifest_from_options,
    validate_manifest,
)
from ansible_collections.aci.registry.plugins.module_utils.streams import DIRECTORY, AciError

ANNOTATION_PREFIX = 'appc.io/docker/'
# The PATH Docker gives a container whose image sets none; used to find a relative executable.
DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# appc's rule for environment variable names; manifest.py checks it again on the whole manifest.
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z_0-9.-]*$')
_PORT = re.compile(r'^([0-9]+)(?:-([0-9]+))?(?:/([A-Za-z0-9]+))?$')
# Docker architecture (and arm variant) -> appc arch, for os linux.
_LINUX_ARCHES = {'amd64': 'amd64', 'x86_64': 'amd64', '386': 'i386', 'i386': 'i386', 'i686': 'i386',
                 'arm64': 'aarch64', 'aarch64': 'aarch64', 'ppc64le': 'ppc64le', 'ppc64': 'ppc64', 's390x': 's390x'}
_ARM_VARIANTS = {'': 'armv7l', 'v7': 'armv7l', 'v6': 'armv6l'}


def appc_os_arch(os_name, arch, variant=None):
    """appc's ``(os, arch)`` for a Docker/OCI platform; raises ``AciError`` for one appc lacks."""
    if os_name != 'linux':
        raise AciError('os %r cannot become an ACI: appc images are for %s' % (os_name, ', '.join(sorted(VALID_OS_ARCH))))
    variant = variant or ''
    if arch == 'arm':
        appc_arch = _ARM_VARIANTS.get(variant)
    elif arch in ('arm64', 'aarch64') and variant not in ('', 'v8'):
        appc_arch = None
    else:
        appc_arch = _LINUX_ARCHES.get(arch)
    if appc_arch is None:
        raise AciError('architecture %s has no appc name; appc knows %s on linux'
                       % (platform_text(None, arch, variant), ', '.join(VALID_OS_ARCH['linux'])))
    return os_name, appc_arch


def sanitize_ac_name(text):
    """``text`` as an AC Name (lower-case letters and digits joined by single ``-``); may be ``''``."""
    return '-'.join(w for w in re.split(r'[^a-z0-9]+', text.lower()) if w)


def sanitize_ac_identifier(text):
    """``text`` as an AC Identifier (separators ``-._~/`` single and between letters or digits); may be ``''``."""
    text = re.sub(r'[^a-z0-9._~/-]', '-', text.lower())
    text = re.sub(r'([-._~/])[-._~/]+', r'\1', text)
    return text.strip('-._~/')


def _ports(exposed, warnings):
    ports = []
    for key in sorted(exposed or {}):
        match = _PORT.match(key) if isinstance(key, str) else None
        first = int(match.group(1)) if match else 0
        last = int(match.group(2)) if match and match.group(2) else first
        if not match or not 1 <= first <= last <= 65535:
            warnings.append('exposed port %r skipped: not a port, a port range or either with /protocol' % (key,))
            continue
        protocol = (match.group(3) or 'tcp').lower()
        port = {'name': sanitize_ac_name('%s-%s' % (key.split('/')[0], protocol)), 'protocol': protocol, 'port': first}
        if last > first:
            port['count'] = last - first + 1
        ports.append(port)
    return sorted(ports, key=lambda p: (p['port'], p['protocol']))


def _mount_points(volumes):
    """A mount point per volume, named like docker2aci does (``volume-`` and the path)."""
    points, used = [], set()
    for path in sorted(volumes or {}):
        path = '/' + path.strip('/') if path.strip('/') else '/'
        base = sanitize_ac_name('volume-' + path) if path != '/' else 'volume-root'
        name, suffix = base, 1
        while name in used:
            suffix += 1
            name = '%s-%d' % (base, suffix)
        used.add(name)
        points.append({'name': name, 'path': path})
    return points


def _environment(env, warnings):
    variables = {}
    for item in env or ():
        name, sep, value = item.partition('=') if isinstance(item, str) else ('', '', '')
        if not sep or not _ENV_NAME.match(name):
            warnings.append('environment entry %r skipped: appc needs NAME=value with a name of letters, digits, '
                            '"_", "." or "-" not starting with a digit' % (item,))
            continue
        variables[name] = value
    return variables


def _user_group(user, passwd, warnings):
    """appc's user and group for Docker's ``User`` (``user``, ``uid``, ``user:group``, ``uid:gid``)."""
    if not user:
        return '0', '0'
    name, sep, group = user.partition(':')
    if sep and group:
        return name, group
    # Docker runs a user given alone with the primary group /etc/passwd gives it (gid 0 when the
    # uid is not listed there); appc has no such default, so the group is looked up now.
    for line in (passwd or b'').decode('utf-8', 'replace').splitlines():
        fields = line.split(':')
        if len(fields) >= 4 and name in (fields[0], fields[2]) and fields[3].isdigit():
            return name, fields[3]
    if not name.isdigit():
        warnings.append('user %s is not in the image\'s /etc/passwd; group 0 is used' % name)
    return name, '0'


def _exec(config, source, environment, working_directory, warnings):
    """Entrypoint + Cmd, with a bare command name looked up along the image's PATH like Docker does."""
    command = []
    for field in ('Entrypoint', 'Cmd'):
        value = config.get(field) or []
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise AciError('the image config\'s %s must be a list of strings, got %r' % (field, value))
        command.extend(value)
    if not command:
        return []
    program = command[0]
    if '/' not in program:
        for directory in environment.get('PATH', DEFAULT_PATH).split(':'):
            candidate = posixpath.join(directory or '/', program)
            if directory.startswith('/') and source.lookup(candidate) not in (None, DIRECTORY):
                return [candidate] + command[1:]
        warnings.append('the command %s is not found along PATH in the image; it is kept as it is' % program)
    elif not program.startswith('/'):
        command[0] = posixpath.normpath(posixpath.join(working_directory or '/', program))
    elif source.lookup(program) in (None, DIRECTORY):
        warnings.append('the command %s is not a file in the image' % program)
    return command


def _labels(image, version, warnings):
    config = image.config
    labels = {'version': version or image.tag or 'latest'}
    if config.get('os') or config.get('architecture'):
        labels['os'], labels['arch'] = appc_os_arch(config.get('os'), config.get('architecture'), config.get('variant'))
    else:
        warnings.append('the image config names no os and architecture; the image has no os and arch labels')
    return labels


def _annotations(image, entrypoint, cmd):
    config = image.config
    annotations = {}
    if isinstance(config.get('author'), str) and config['author']:
        annotations['authors'] = config['author']
    if is_rfc3339(config.get('created')):
        annotations['created'] = config['created']
    if image.reference is not None:
        annotations[ANNOTATION_PREFIX + 'originalname'] = image.reference
        if not is_bare_tag(image.reference):
            domain, repository, tag = parse_reference(image.reference)
            annotations[ANNOTATION_PREFIX + 'registryurl'] = domain
            annotations[ANNOTATION_PREFIX + 'repository'] = repository
    if image.tag:
        annotations[ANNOTATION_PREFIX + 'tag'] = image.tag
    annotations[ANNOTATION_PREFIX + 'imageid'] = image.config_digest
    # rkt and the kubelet's rkt runtime read these to run the image with other arguments.
    for key, value in (('entrypoint', entrypoint), ('cmd', cmd)):
        if value:
            annotations[ANNOTATION_PREFIX + key] = json.dumps(value, separators=(',', ':'))
    return annotations


def _label_annotations(labels, taken, warnings):
    """Docker labels as annotations; a key that is no AC Identifier is sanitised or skipped."""
    kept = {}
    for key in sorted(labels or {}):
        value = labels[key]
        name = sanitize_ac_identifier(key)
        if not isinstance(value, str):
            warnings.append('Docker label %r skipped: its value is not a string' % key)
        elif not name:
            warnings.append('Docker label %r skipped: nothing of it can form an AC Identifier' % key)
        elif name in taken or name in kept:
            warnings.append('Docker label %r skipped: annotation %s is already set' % (key, name))
        else:
            if name != key:
                warnings.append('Docker label %r kept as annotation %s (annotation names are AC Identifiers)' % (key, name))
            kept[name] = value
    return kept


def _drop_bad_annotations(manifest, names, warnings):
    """Removes annotations from ``names`` that the validator refuses (a label "homepage" that is
    no URL, say), warning with its reason, so one odd label does not stop the conversion."""
    errors, dummy = check_manifest(manifest)
    bad = {}
    for error in errors:
        match = re.match(r'^annotations\[(\d+)\]\.[a-z]+: (.*)$', error)
        if match:
            bad.setdefault(int(match.group(1)), match.group(2))
    annotations = manifest.get('annotations') or []
    for index in sorted(bad, reverse=True):
        if annotations[index]['name'] in names:
            warnings.append('Docker label %s skipped: %s' % (annotations[index]['name'], bad[index]))
            del annotations[index]


def image_manifest(image, source, name, version=None):
    """The appc manifest of ``image`` published as ``name``; ``(manifest, warnings)``.

    ``version`` overrides the tag as the version label. The manifest is validated with
    ``manifest.validate_manifest``; ``ManifestError`` lists what is wrong (a bad ``name``, say).
    """
    warnings = list(image.warnings) + list(source.warnings)
    config = image.config.get('config') or {}
    environment = _environment(config.get('Env'), warnings)
    working_directory = config.get('WorkingDir') or None
    if working_directory and not working_directory.startswith('/'):
        warnings.append('working directory %s made absolute' % working_directory)
        working_directory = '/' + working_directory
    command = _exec(config, source, environment, working_directory, warnings)
    options = {'name': name, 'labels': _labels(image, version, warnings)}
    annotations = _annotations(image, config.get('Entrypoint'), config.get('Cmd'))
    from_labels = _label_annotations(config.get('Labels'), annotations, warnings)
    annotations.update(from_labels)
    options['annotations'] = annotations
    if command:
        options['exec'] = command
        options['user'], options['group'] = _user_group(config.get('User'), source.passwd, warnings)
        options['working_directory'] = working_directory
        options['environment'] = environment or None
        options['ports'] = _ports(config.get('ExposedPorts'), warnings) or None
        options['mount_points'] = _mount_points(config.get('Volumes')) or None
    else:
        warnings.append('the image has no Entrypoint or Cmd; the ACI has no app, as a base image would')
    manifest = manifest_from_options(options)
    _drop_bad_annotations(manifest, from_labels, warnings)
    warnings.extend(validate_manifest(manifest, source='the converted manifest'))
    return manifest, warnings


__all__ = ['ANNOTATION_PREFIX', 'DEFAULT_PATH', 'appc_os_arch', 'image_manifest', 'sanitize_ac_identifier',
           'sanitize_ac_name']
