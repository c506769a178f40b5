# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The appc ImageManifest (spec 0.8.x): validation, building from module options, canonical JSON.

This is the collection's one manifest validator: ``aci_build`` checks a manifest here before it
writes anything, and whatever reads images (fetching, publishing) checks them here too.

Public API:

* ``check_manifest(manifest)`` -> ``(errors, warnings)``: never raises; every message starts with
  the path of the field it is about (``app.ports[1].port: ...``) and says what is allowed.
* ``validate_manifest(manifest)`` -> ``warnings``; raises ``ManifestError`` listing every error.
* ``parse_manifest(data, source)`` -> ``dict`` from JSON bytes; raises ``ManifestError``.
* ``manifest_from_options(options, base=None)`` -> ``dict``: a manifest from ``aci_build``'s options,
  optionally as overrides on top of an existing manifest.
* ``canonical_json(manifest)`` -> ``bytes`` (stable key order, compact, UTF-8) and
  ``pretty_json(manifest)`` -> ``str`` for humans (diffs).
* ``canonical(manifest)`` -> the same manifest as nested dicts in canonical key order.
* ``get_label(manifest, name)`` / ``get_annotation(manifest, name)``.
* ``is_ac_identifier(s)`` / ``is_ac_name(s)``; constants ``AC_VERSION`` and ``VALID_OS_ARCH``.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import json
import re

from urllib.parse import urlsplit

AC_VERSION = '0.8.11'
IMAGE_MANIFEST_KIND = 'ImageManifest'

# The os/arch pairs appc accepts (schema/types/labels.go in appc/spec 0.8.11).
VALID_OS_ARCH = {
    'linux': ('amd64', 'i386', 'aarch64', 'aarch64_be', 'armv6l', 'armv7l', 'armv7b', 'ppc64', 'ppc64le', 's390x'),
    'freebsd': ('amd64', 'i386', 'arm'),
    'darwin': ('x86_64', 'i386'),
}

_AC_IDENTIFIER = re.compile(r'^[a-z0-9]+([-._~/][a-z0-9]+)*$')
_AC_NAME = re.compile(r'^[a-z0-9]+(-[a-z0-9]+)*$')
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z_0-9.-]*$')
_SEMVER = re.compile(r'^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)'
                     r'(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$')
_RFC3339 = re.compile(r'^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$')
_IMAGE_ID = re.compile(r'^sha512-[0-9a-f]{1,128}$')
_ERRNO = re.compile(r'^E[A-Z0-9]*$')
_QUANTITY = re.compile(r'^[+-]?[0-9.]+([eEinumkKMGTP]*[-+]?[0-9]*)$')

AC_IDENTIFIER_RULE = ('lower-case letters a-z and digits, separated by single "-", ".", "_", "~" or "/", '
                      'starting and ending with a letter or digit (^[a-z0-9]+([-._~/][a-z0-9]+)*$)')
AC_NAME_RULE = ('lower-case letters a-z and digits, separated by single "-", '
                'starting and ending with a letter or digit (^[a-z0-9]+(-[a-z0-9]+)*$)')

_EVENT_HANDLERS = ('pre-start', 'post-stop')
_USUAL_PROTOCOLS = ('tcp', 'udp')

# Known fields per object, in the order the spec lists them; canonical_json writes them in this order.
_TOP_FIELDS = ('acKind', 'acVersion', 'name', 'labels', 'app', 'annotations', 'dependencies', 'pathWhitelist')
_APP_FIELDS = ('exec', 'eventHandlers', 'user', 'group', 'supplementaryGIDs', 'workingDirectory', 'environment',
               'mountPoints', 'ports', 'isolators', 'userAnnotations', 'userLabels')
_PORT_FIELDS = ('name', 'protocol', 'port', 'count', 'socketActivated')
_MOUNT_FIELDS = ('name', 'path', 'readOnly')
_PAIR_FIELDS = ('name', 'value')
_HANDLER_FIELDS = ('name', 'exec')
_DEPENDENCY_FIELDS = ('imageName', 'imageID', 'labels', 'size')

_KEY_RANK = {}
for _fields in (_TOP_FIELDS, _APP_FIELDS, _PORT_FIELDS, _MOUNT_FIELDS, _PAIR_FIELDS, _HANDLER_FIELDS,
                _DEPENDENCY_FIELDS):
    for _key in _fields:
        _KEY_RANK.setdefault(_key, len(_KEY_RANK))


class ManifestError(ValueError):
    """An invalid manifest; ``errors`` lists every problem found, each naming its field."""

    def __init__(self, errors, source='manifest'):
        self.errors = list(errors)
        self.source = source
        super().__init__('%s is not a valid appc ImageManifest: %s' % (source, '; '.join(self.errors)))


def is_ac_identifier(value):
    return isinstance(value, str) and bool(_AC_IDENTIFIER.match(value))


def is_ac_name(value):
    return isinstance(value, str) and bool(_AC_NAME.match(value))


def _describe(value):
    if isinstance(value, bool):
        return 'a boolean (%s)' % json.dumps(value)
    if value is None:
        return 'null'
    if isinstance(value, (dict, list)):
        return 'an %s' % ('object' if isinstance(value, dict) else 'array')
    return json.dumps(value)


class _Report:
    """Collects messages; each one is prefixed with the JSON path of its field."""

    def __init__(self):
        self.errors = []
        self.warnings = []

    def error(self, path, message):
        self.errors.append('%s: %s' % (path, message))

    def warn(self, path, message):
        self.warnings.append('%s: %s' % (path, message))

    def unknown_fields(self, obj, path, known):
        for key in sorted(k for k in obj if k not in known):
            hint = difflib.get_close_matches(key, known, n=1)
            self.warn(_join(path, key), 'unknown field, ignored by appc tools%s'
                      % ('; did you mean "%s"?' % hint[0] if hint else ''))

    def string(self, value, path, what, required=True):
        """True when ``value`` is a string (non-empty when ``required``); reports otherwise."""
        if isinstance(value, str) and (value or not required):
            return True
        self.error(path, 'must be %s, got %s' % (what, _describe(value)))
        return False

    def obj(self, value, path):
        if isinstance(value, dict):
            return True
        self.error(path, 'must be an object, got %s' % _describe(value))
        return False

    def array(self, value, path, of):
        if isinstance(value, list):
            return True
        self.error(path, 'must be a list of %s, got %s' % (of, _describe(value)))
        return False

    def boolean(self, value, path):
        if isinstance(value, bool):
            return True
        self.error(path, 'must be true or false, got %s' % _describe(value))
        return False

    def integer(self, value, path, low, high=None, what='an integer'):
        if isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high):
            return True
        allowed = 'from %d to %d' % (low, high) if high is not None else '%d or more' % low
        self.error(path, '%s is not allowed; must be %s %s' % (_describe(value), what, allowed))
        return False

    def identifier(self, value, path):
        if not isinstance(value, str) or not value:
            self.error(path, 'must be a non-empty string (an AC Identifier: %s), got %s' % (AC_IDENTIFIER_RULE, _describe(value)))
            return False
        if not _AC_IDENTIFIER.match(value):
            self.error(path, '"%s" is not an AC Identifier; allowed: %s' % (value, AC_IDENTIFIER_RULE))
            return False
        return True

    def ac_name(self, value, path):
        if not isinstance(value, str) or not value:
            self.error(path, 'must be a non-empty string (an AC Name: %s), got %s' % (AC_NAME_RULE, _describe(value)))
            return False
        if not _AC_NAME.match(value):
            self.error(path, '"%s" is not an AC Name; allowed: %s' % (value, AC_NAME_RULE))
            return False
        return True

    def absolute_path(self, value, path, what):
        if self.string(value, path, 'an absolute path (%s)' % what) and not value.startswith('/'):
            self.error(path, '"%s" is not allowed; %s must be an absolute path (starting with "/")' % (value, what))
            return False
        return isinstance(value, str)


def _join(path, key):
    return '%s.%s' % (path, key) if path else key


def _items(report, value, path, of):
    """The ``(path, item)`` pairs of a list field whose items must be objects."""
    if not report.array(value, path, of):
        return []
    pairs = []
    for index, item in enumerate(value):
        item_path = '%s[%d]' % (path, index)
        if report.obj(item, item_path):
            pairs.append((item_path, item))
    return pairs


def _unique_names(report, pairs, path, what):
    """Reports a name used twice in a list of named objects."""
    seen = {}
    for item_path, item in pairs:
        name = item.get('name')
        if not isinstance(name, str):
            continue
        if name in seen:
            report.error(item_path + '.name', '"%s" is already used by %s; %s names must be unique'
                         % (name, seen[name], what))
        else:
            seen[name] = item_path


# ---------------------------------------------------------------------------------------------
# Sections of the manifest


def _check_labels(report, labels, path):
    """Checks a label list; returns the valid labels as a dict for the os/arch checks."""
    found = {}
    pairs = _items(report, labels, path, 'objects with "name" and "value"')
    for item_path, label in pairs:
        report.unknown_fields(label, item_path, _PAIR_FIELDS)
        name = label.get('name')
        if report.identifier(name, item_path + '.name') and name == 'name':
            report.error(item_path + '.name', '"name" cannot be a label; the image name is the top-level "name" field')
        value = label.get('value')
        if report.string(value, item_path + '.value', 'a string', required=False) and isinstance(name, str):
            found.setdefault(name, (item_path, value))
    _unique_names(report, pairs, path, 'label')
    _check_os_arch(report, found, path)
    return found


def _check_os_arch(report, labels, path):
    if 'os' in labels:
        os_path, os_name = labels['os']
        if os_name not in VALID_OS_ARCH:
            report.error(os_path + '.value', 'os "%s" is not supported; allowed: %s'
                         % (os_name, ', '.join(sorted(VALID_OS_ARCH))))
        elif 'arch' in labels:
            arch_path, arch = labels['arch']
            if arch not in VALID_OS_ARCH[os_name]:
                report.error(arch_path + '.value', 'arch "%s" is not supported on %s; allowed: %s'
                             % (arch, os_name, ', '.join(VALID_OS_ARCH[os_name])))
    elif 'arch' in labels:
        report.warn(labels['arch'][0], 'an arch label means nothing without an os label; add os (e.g. linux)')


def _check_exec(report, value, path, what):
    if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
        report.error(path, 'must be a non-empty list of strings (%s), got %s' % (what, _describe(value)))
    elif not value[0].startswith('/'):
        report.warn(path + '[0]', '"%s" is not an absolute path; the spec wants the executable as an absolute path '
                                  'inside the rootfs' % value[0])


def _check_app(report, app):
    path = 'app'
    if not report.obj(app, path):
        return
    report.unknown_fields(app, path, _APP_FIELDS)
    _check_exec(report, app.get('exec'), 'app.exec', 'the executable, an absolute path, and its arguments')
    for field in ('user', 'group'):
        report.string(app.get(field), 'app.' + field,
                      'a non-empty string (a name, a numeric ID, or an absolute path whose owner is used)')
    if 'supplementaryGIDs' in app:
        gids = app['supplementaryGIDs']
        if report.array(gids, 'app.supplementaryGIDs', 'integers'):
            for index, gid in enumerate(gids):
                report.integer(gid, 'app.supplementaryGIDs[%d]' % index, 0, what='a group ID')
    if app.get('workingDirectory', '') != '':
        report.absolute_path(app['workingDirectory'], 'app.workingDirectory', 'the working directory')
    if 'environment' in app:
        _check_environment(report, app['environment'], 'app.environment')
    if 'eventHandlers' in app:
        pairs = _items(report, app['eventHandlers'], 'app.eventHandlers', 'objects with "name" and "exec"')
        for item_path, handler in pairs:
            report.unknown_fields(handler, item_path, _HANDLER_FIELDS)
            if handler.get('name') not in _EVENT_HANDLERS:
                report.error(item_path + '.name', '%s is not an event handler; allowed: %s'
                             % (_describe(handler.get('name')), ', '.join(_EVENT_HANDLERS)))
            _check_exec(report, handler.get('exec'), item_path + '.exec', 'the command to run')
        _unique_names(report, pairs, 'app.eventHandlers', 'event handler')
    if 'mountPoints' in app:
        pairs = _items(report, app['mountPoints'], 'app.mountPoints', 'objects with "name" and "path"')
        for item_path, mount in pairs:
            report.unknown_fields(mount, item_path, _MOUNT_FIELDS)
            report.ac_name(mount.get('name'), item_path + '.name')
            report.absolute_path(mount.get('path'), item_path + '.path', 'a mount point')
            if 'readOnly' in mount:
                report.boolean(mount['readOnly'], item_path + '.readOnly')
        _unique_names(report, pairs, 'app.mountPoints', 'mount point')
    if 'ports' in app:
        pairs = _items(report, app['ports'], 'app.ports', 'objects with "name", "protocol" and "port"')
        for item_path, port in pairs:
            _check_port(report, port, item_path)
        _unique_names(report, pairs, 'app.ports', 'port')
    if 'isolators' in app:
        _check_isolators(report, app['isolators'], 'app.isolators')
    for field in ('userAnnotations', 'userLabels'):
        if field in app and report.obj(app[field], 'app.' + field):
            for key, value in app[field].items():
                report.string(value, 'app.%s.%s' % (field, key), 'a string', required=False)


def _check_environment(report, environment, path):
    pairs = _items(report, environment, path, 'objects with "name" and "value"')
    for item_path, variable in pairs:
        report.unknown_fields(variable, item_path, _PAIR_FIELDS)
        name = variable.get('name')
        if report.string(name, item_path + '.name', 'a non-empty string (a variable name)') and not _ENV_NAME.match(name):
            report.error(item_path + '.name', '"%s" is not a valid environment variable name; allowed: a letter or "_" '
                         'followed by letters, digits, "_", "." or "-" (^[A-Za-z_][A-Za-z_0-9.-]*$)' % name)
        report.string(variable.get('value'), item_path + '.value', 'a string', required=False)
    _unique_names(report, pairs, path, 'environment variable')


def _check_port(report, port, path):
    report.unknown_fields(port, path, _PORT_FIELDS)
    report.ac_name(port.get('name'), path + '.name')
    protocol = port.get('protocol')
    if report.string(protocol, path + '.protocol', 'a non-empty string such as "tcp" or "udp"') \
            and protocol not in _USUAL_PROTOCOLS:
        report.warn(path + '.protocol', '"%s" is not tcp or udp; executors may refuse it' % protocol)
    number = port.get('port')
    valid = report.integer(number, path + '.port', 1, 65535, what='a port number')
    if port.get('count') is not None and report.integer(port['count'], path + '.count', 1, what='a port count') \
            and valid and number + port['count'] - 1 > 65535:
        report.error(path + '.count', 'the range %d-%d ends past 65535; count may be at most %d for port %d'
                     % (number, number + port['count'] - 1, 65536 - number, number))
    if 'socketActivated' in port:
        report.boolean(port['socketActivated'], path + '.socketActivated')


def _check_annotations(report, annotations, path):
    pairs = _items(report, annotations, path, 'objects with "name" and "value"')
    for item_path, annotation in pairs:
        report.unknown_fields(annotation, item_path, _PAIR_FIELDS)
        name = annotation.get('name')
        report.identifier(name, item_path + '.name')
        value = annotation.get('value')
        if not report.string(value, item_path + '.value', 'a string', required=False):
            continue
        if name == 'created' and not is_rfc3339(value):
            report.error(item_path + '.value', '"%s" is not an RFC 3339 date-time; write e.g. "2026-01-31T12:00:00Z" '
                         'or "2026-01-31T13:00:00.5+01:00"' % value)
        elif name in ('homepage', 'documentation') and not _is_web_url(value):
            report.error(item_path + '.value', '"%s" is not allowed; %s must be an http:// or https:// URL'
                         % (value, name))
    _unique_names(report, pairs, path, 'annotation')


def _check_dependencies(report, dependencies, path):
    for item_path, dependency in _items(report, dependencies, path, 'objects with "imageName"'):
        report.unknown_fields(dependency, item_path, _DEPENDENCY_FIELDS)
        report.identifier(dependency.get('imageName'), item_path + '.imageName')
        image_id = dependency.get('imageID')
        if image_id is not None and not (isinstance(image_id, str) and _IMAGE_ID.match(image_id)):
            report.error(item_path + '.imageID', '%s is not an image ID; write "sha512-" followed by the lower-case '
                         'hex SHA-512 of the uncompressed image' % _describe(image_id))
        if dependency.get('labels') is not None:
            _check_labels(report, dependency['labels'], item_path + '.labels')
        if dependency.get('size') is not None:
            report.integer(dependency['size'], item_path + '.size', 0, what='a size in bytes')


def _check_path_whitelist(report, paths, path):
    if report.array(paths, path, 'absolute paths'):
        for index, entry in enumerate(paths):
            report.absolute_path(entry, '%s[%d]' % (path, index), 'a whitelisted path')


# ---------------------------------------------------------------------------------------------
# Isolators: the ones appc 0.8.11 defines are checked like the reference implementation does;
# others are only required to have an AC Identifier name and a value.


def _resource(default_must_be, request_allowed):
    def check(report, value, path):
        if not report.obj(value, path):
            return
        if value.get('default', False) is not default_must_be:
            report.error(path + '.default', 'must be %s for this resource' % json.dumps(default_must_be))
        for field in ('request', 'limit'):
            quantity = value.get(field)
            if quantity is None:
                continue
            if field == 'request' and not request_allowed:
                report.error(path + '.request', 'this resource takes no request, only a limit')
            elif not isinstance(quantity, (str, int, float)) or isinstance(quantity, bool) \
                    or not _QUANTITY.match(str(quantity)):
                report.error(path + '.' + field, '%s is not a quantity; write e.g. "500m", "1", "512Mi" or "1G"'
                             % _describe(quantity))
    return check


def _capability_set(report, value, path):
    if report.obj(value, path):
        caps = value.get('set')
        if not isinstance(caps, list) or not caps or not all(isinstance(c, str) and c for c in caps):
            report.error(path + '.set', 'must be a non-empty list of capability names such as "CAP_NET_BIND_SERVICE"')


def _seccomp_set(report, value, path):
    if report.obj(value, path):
        calls = value.get('set')
        if not isinstance(calls, list) or not calls or not all(isinstance(c, str) and c for c in calls):
            report.error(path + '.set', 'must be a non-empty list of syscall names such as "@rkt/default-whitelist"')
        errno = value.get('errno', '')
        if errno and not (isinstance(errno, str) and _ERRNO.match(errno)):
            report.error(path + '.errno', '%s is not an errno name; write e.g. "EPERM"' % _describe(errno))


def _int_range(low, high):
    def check(report, value, path):
        report.integer(value, path, low, high)
    return check


def _boolean(report, value, path):
    report.boolean(value, path)


def _selinux_context(report, value, path):
    if report.obj(value, path):
        for field in ('user', 'role', 'type', 'level'):
            part = value.get(field)
            if not isinstance(part, str) or not part or (field != 'level' and ':' in part):
                report.error('%s.%s' % (path, field), 'must be a non-empty string%s' % ('' if field == 'level' else ' without ":"'))


def _sysctl(report, value, path):
    if report.obj(value, path):
        for key, setting in value.items():
            report.string(setting, '%s.%s' % (path, key), 'a string', required=False)


# name -> (check, several allowed, conflicts with)
_ISOLATORS = {
    'resource/block-bandwidth': (_resource(True, False), True, ()),
    'resource/block-iops': (_resource(True, False), True, ()),
    'resource/cpu': (_resource(False, True), True, ()),
    'resource/memory': (_resource(False, True), True, ()),
    'resource/network-bandwidth': (_resource(True, False), True, ()),
    'os/linux/capabilities-retain-set': (_capability_set, True, ()),
    'os/linux/capabilities-remove-set': (_capability_set, True, ()),
    'os/linux/no-new-privileges': (_boolean, True, ()),
    'os/linux/seccomp-remove-set': (_seccomp_set, False, ('os/linux/seccomp-retain-set',)),
    'os/linux/seccomp-retain-set': (_seccomp_set, False, ('os/linux/seccomp-remove-set',)),
    'os/linux/oom-score-adj': (_int_range(-1000, 1000), False, ()),
    'os/linux/cpu-shares': (_int_range(2, 262144), False, ()),
    'os/linux/selinux-context': (_selinux_context, False, ()),
    'os/unix/sysctl': (_sysctl, False, ()),
}


def _check_isolators(report, isolators, path):
    seen = {}
    for item_path, isolator in _items(report, isolators, path, 'objects with "name" and "value"'):
        report.unknown_fields(isolator, item_path, _PAIR_FIELDS)
        name = isolator.get('name')
        if not report.identifier(name, item_path + '.name'):
            continue
        if 'value' not in isolator:
            report.error(item_path + '.value', 'is required')
            continue
        check, several, conflicts = _ISOLATORS.get(name, (None, True, ()))
        if check is None:
            report.warn(item_path + '.name', '"%s" is not an isolator appc %s defines; it is kept as is' % (name, AC_VERSION))
        else:
            check(report, isolator['value'], item_path + '.value')
        if name in seen and not several:
            report.error(item_path + '.name', 'only one "%s" isolator is allowed (another is %s)' % (name, seen[name]))
        for other in conflicts:
            if other in seen:
                report.error(item_path + '.name', '"%s" cannot be combined with "%s" (%s)' % (name, other, seen[other]))
        seen.setdefault(name, item_path)


# ---------------------------------------------------------------------------------------------


def is_rfc3339(value):
    """True for an RFC 3339 date-time such as ``2026-01-31T12:00:00Z`` (what appc's "created" needs)."""
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    offset = match.group(8)
    return offset == 'Z' or (int(offset[1:3]) < 24 and int(offset[4:6]) < 60)


def rfc3339_to_epoch(value):
    """Seconds since the epoch (floored) for an RFC 3339 date-time, or ``None`` when it is not one."""
    if not is_rfc3339(value):
        return None
    match = _RFC3339.match(value)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    offset = match.group(8)
    moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.timezone.utc)
    if offset != 'Z':
        delta = datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        moment -= delta if offset[0] == '+' else -delta
    return int(moment.timestamp())


def _is_web_url(value):
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ('http', 'https') and bool(parts.netloc)


def check_manifest(manifest):
    """Returns ``(errors, warnings)`` for an ImageManifest dict; never raises."""
    report = _Report()
    if not isinstance(manifest, dict):
        report.error('manifest', 'must be a JSON object, got %s' % _describe(manifest))
        return report.errors, report.warnings
    report.unknown_fields(manifest, '', _TOP_FIELDS)
    if manifest.get('acKind') != IMAGE_MANIFEST_KIND:
        report.error('acKind', '%s is not allowed; an image manifest has acKind "%s"'
                     % (_describe(manifest.get('acKind')), IMAGE_MANIFEST_KIND))
    version = manifest.get('acVersion')
    if not (isinstance(version, str) and _SEMVER.match(version)) or version.split('+')[0].split('-')[0] == '0.0.0':
        report.error('acVersion', '%s is not allowed; must be a semantic version other than 0.0.0, such as "%s"'
                     % (_describe(version), AC_VERSION))
    elif not version.startswith('0.'):
        report.warn('acVersion', '"%s" is newer than the appc %s tools understand' % (version, AC_VERSION))
    report.identifier(manifest.get('name'), 'name')
    labels = _check_labels(report, manifest['labels'], 'labels') if manifest.get('labels') is not None else {}
    for label in ('os', 'arch'):
        if label not in labels:
            report.warn('labels', 'no "%s" label; rkt only runs images that have os and arch labels '
                                  '(e.g. os=linux, arch=amd64)' % label)
    if manifest.get('app') is not None:
        _check_app(report, manifest['app'])
    if manifest.get('annotations') is not None:
        _check_annotations(report, manifest['annotations'], 'annotations')
    if manifest.get('dependencies') is not None:
        _check_dependencies(report, manifest['dependencies'], 'dependencies')
    if manifest.get('pathWhitelist') is not None:
        _check_path_whitelist(report, manifest['pathWhitelist'], 'pathWhitelist')
    return report.errors, report.warnings


def validate_manifest(manifest, source='manifest'):
    """Returns the warnings for a valid manifest; raises ``ManifestError`` listing every error."""
    errors, warnings = check_manifest(manifest)
    if errors:
        raise ManifestError(errors, source)
    return warnings


def parse_manifest(data, source='manifest'):
    """The manifest dict from JSON ``data`` (bytes or str); raises ``ManifestError`` when it is not JSON.

    Only the JSON is checked here: call ``validate_manifest`` for the appc rules.
    """
    try:
        text = data.decode('utf-8') if isinstance(data, bytes) else data
        manifest = json.loads(text)
    except UnicodeDecodeError as e:
        raise ManifestError(['not UTF-8 text (%s)' % e], source)
    except ValueError as e:
        raise ManifestError(['not valid JSON: %s' % e], source)
    except RecursionError:
        # json nests by recursion: a hostile manifest of a million '[' ends Python's stack.
        raise ManifestError(['nested too deeply to be a manifest'], source)
    if not isinstance(manifest, dict):
        raise ManifestError(['must be a JSON object, got %s' % _describe(manifest)], source)
    return manifest


# ---------------------------------------------------------------------------------------------
# Canonical form


def _ordered(value):
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (_KEY_RANK.get(k, len(_KEY_RANK)), k))
        return dict((k, _ordered(value[k])) for k in keys)
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def canonical(manifest):
    """A deep copy of ``manifest`` with every object's keys in canonical order."""
    return _ordered(manifest)


def canonical_json(manifest):
    """The bytes written as an image's ``manifest``: same manifest, same bytes.

    Known fields come in the spec's order, unknown ones after them sorted by name; compact
    separators; UTF-8 without escaping.
    """
    return json.dumps(_ordered(manifest), ensure_ascii=False, separators=(',', ':')).encode('utf-8')


def pretty_json(manifest):
    """The canonical manifest indented for people (diffs, messages)."""
    return json.dumps(_ordered(manifest), ensure_ascii=False, indent=2) + '\n'


def _pair_value(pairs, name):
    for pair in pairs or ():
        if isinstance(pair, dict) and pair.get('name') == name:
            return pair.get('value')
    return None


def get_label(manifest, name):
    """The value of label ``name`` or ``None``."""
    return _pair_value(manifest.get('labels'), name)


def get_annotation(manifest, name):
    """The value of annotation ``name`` or ``None``."""
    return _pair_value(manifest.get('annotations'), name)


# ---------------------------------------------------------------------------------------------
# Building a manifest from module options


def _text(value):
    """Option values come from YAML: a number or boolean meant as text becomes its JSON spelling."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (int, float)) else value


def _merge_pairs(pairs, updates):
    """Applies ``{name: value}`` to a ``[{name, value}]`` list: set or add; a ``None`` value removes."""
    result = [dict(p) for p in pairs or ()]
    for name, value in updates.items():
        index = next((i for i, p in enumerate(result) if isinstance(p, dict) and p.get('name') == name), None)
        if value is None:
            if index is not None:
                del result[index]
        elif index is None:
            result.append({'name': name, 'value': _text(value)})
        else:
            result[index]['value'] = _text(value)
    return result


def _compact(mapping):
    return dict((k, v) for k, v in mapping.items() if v is not None)


def _port(option):
    return _compact({'name': option.get('name'), 'protocol': option.get('protocol'), 'port': option.get('port'),
                     'count': option.get('count'), 'socketActivated': option.get('socket_activated')})


def _mount_point(option):
    return _compact({'name': option.get('name'), 'path': option.get('path'), 'readOnly': option.get('read_only')})


def _event_handler(option):
    return _compact({'name': option.get('name'), 'exec': option.get('exec')})


def _isolator(option):
    return {'name': option.get('name'), 'value': option.get('value')}


def _dependency(option):
    labels = option.get('labels')
    return _compact({'imageName': option.get('image_name'), 'imageID': option.get('image_id'),
                     'labels': _merge_pairs([], labels) if labels else None, 'size': option.get('size')})


# option -> (app field, conversion); list options replace the whole field
_APP_OPTIONS = {
    'exec': ('exec', list),
    'user': ('user', _text),
    'group': ('group', _text),
    'supplementary_gids': ('supplementaryGIDs', list),
    'working_directory': ('workingDirectory', _text),
    'ports': ('ports', lambda v: [_port(p) for p in v]),
    'mount_points': ('mountPoints', lambda v: [_mount_point(m) for m in v]),
    'event_handlers': ('eventHandlers', lambda v: [_event_handler(h) for h in v]),
    'isolators': ('isolators', lambda v: [_isolator(i) for i in v]),
}

MANIFEST_OPTIONS = ('name', 'labels', 'annotations', 'environment', 'dependencies') + tuple(_APP_OPTIONS)


def manifest_from_options(options, base=None):
    """A manifest dict from ``aci_build``'s options, on top of ``base`` when given.

    ``options`` uses the module's option names (``name``, ``labels``, ``exec``, ``user``, ``group``,
    ``supplementary_gids``, ``environment``, ``working_directory``, ``ports``, ``mount_points``,
    ``event_handlers``, ``isolators``, ``annotations``, ``dependencies``); ``None`` means "not given".
    Dict options (labels, annotations, environment) are merged name by name into ``base``'s lists,
    a ``None`` value removing that name; every other option replaces the field. Without ``base``
    a new manifest with ``acVersion`` ``AC_VERSION`` is started. Nothing is validated here.
    """
    manifest = copy.deepcopy(base) if base is not None else {'acKind': IMAGE_MANIFEST_KIND, 'acVersion': AC_VERSION}
    if options.get('name') is not None:
        manifest['name'] = options['name']
    for option in ('labels', 'annotations'):
        if options.get(option):
            manifest[option] = _merge_pairs(manifest.get(option), options[option])
    if options.get('dependencies') is not None:
        manifest['dependencies'] = [_dependency(d) for d in options['dependencies']]
    app_updates = dict((field, convert(options[option])) for option, (field, convert) in _APP_OPTIONS.items()
                       if options.get(option) is not None)
    if options.get('environment'):
        app = manifest.get('app') if isinstance(manifest.get('app'), dict) else {}
        app_updates['environment'] = _merge_pairs(app.get('environment'), options['environment'])
    if app_updates:
        if not isinstance(manifest.get('app'), dict):
            manifest['app'] = {}
        manifest['app'].update(app_updates)
    return canonical(manifest)
