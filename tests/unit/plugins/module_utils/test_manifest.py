# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The appc ImageManifest validator, held against appc's reference validator where they overlap."""

import copy
import io
import json
import re
import subprocess
import tarfile

import pytest

from ansible_collections.aci.registry.plugins.module_utils import manifest as acm

GOOD = {
    'acKind': 'ImageManifest',
    'acVersion': '0.8.11',
    'name': 'example.com/tools/app',
    'labels': [
        {'name': 'version', 'value': '1.0.0'},
        {'name': 'os', 'value': 'linux'},
        {'name': 'arch', 'value': 'amd64'},
    ],
    'app': {
        'exec': ['/usr/bin/app', '--quiet'],
        'user': '100',
        'group': '300',
        'supplementaryGIDs': [10, 20],
        'workingDirectory': '/srv',
        'environment': [{'name': 'PATH', 'value': '/usr/bin'}, {'name': 'app.mode-1', 'value': ''}],
        'eventHandlers': [{'name': 'pre-start', 'exec': ['/usr/bin/prepare']},
                          {'name': 'post-stop', 'exec': ['/usr/bin/cleanup', '-v']}],
        'mountPoints': [{'name': 'data', 'path': '/var/lib/app', 'readOnly': True}],
        'ports': [{'name': 'http', 'protocol': 'tcp', 'port': 8080, 'socketActivated': True},
                  {'name': 'ftp-data', 'protocol': 'tcp', 'port': 20000, 'count': 1000}],
        'isolators': [
            {'name': 'resource/cpu', 'value': {'request': '250m', 'limit': '500m'}},
            {'name': 'resource/memory', 'value': {'request': '1G', 'limit': '2G'}},
            {'name': 'os/linux/capabilities-retain-set', 'value': {'set': ['CAP_NET_BIND_SERVICE']}},
            {'name': 'os/linux/no-new-privileges', 'value': True},
            {'name': 'os/linux/oom-score-adj', 'value': -100},
            {'name': 'os/linux/seccomp-retain-set', 'value': {'set': ['@rkt/default-whitelist'], 'errno': 'EPERM'}},
        ],
    },
    'annotations': [
        {'name': 'authors', 'value': 'Carly Container <carly@example.com>'},
        {'name': 'created', 'value': '2014-10-27T19:32:27.67021798Z'},
        {'name': 'documentation', 'value': 'https://example.com/docs'},
        {'name': 'homepage', 'value': 'http://example.com'},
    ],
    'dependencies': [{'imageName': 'example.com/base', 'imageID': 'sha512-' + 'ab' * 64,
                      'labels': [{'name': 'os', 'value': 'linux'}, {'name': 'env', 'value': 'canary'}],
                      'size': 22017258}],
    'pathWhitelist': ['/etc/app.conf', '/usr/bin/app'],
}

DELETE = object()


def mutate(base, path, value):
    """A copy of ``base`` with the field at ``path`` (``app.ports[1].port``) set, or deleted."""
    result = copy.deepcopy(base)
    parts = re.findall(r'[^.\[\]]+|\[\d+\]', path)
    node = result
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith('[') else node[part]
    last = parts[-1]
    key = int(last[1:-1]) if last.startswith('[') else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return result


# (id, field to change, new value, path the error must name, words it must contain,
#  whether appc's reference validator rejects it too)
BAD = [
    ('kind', 'acKind', 'PodManifest', 'acKind', 'acKind "ImageManifest"', True),
    ('kind-missing', 'acKind', DELETE, 'acKind', 'ImageManifest', True),
    ('version-empty', 'acVersion', '', 'acVersion', 'semantic version', True),
    ('version-not-semver', 'acVersion', 'v0.8', 'acVersion', 'semantic version', True),
    ('version-zero', 'acVersion', '0.0.0', 'acVersion', 'other than 0.0.0', True),
    ('name-upper', 'name', 'Example.com/App', 'name', 'not an AC Identifier', True),
    ('name-empty', 'name', '', 'name', 'non-empty string', True),
    ('name-missing', 'name', DELETE, 'name', 'non-empty string', True),
    ('name-edge', 'name', '-example.com', 'name', 'starting and ending with a letter or digit', True),
    ('name-space', 'name', 'example.com/my app', 'name', 'not an AC Identifier', True),
    ('name-double-separator', 'name', 'example..com', 'name', 'separated by single', False),
    ('labels-not-list', 'labels', {'os': 'linux'}, 'labels', 'must be a list', True),
    ('label-duplicate', 'labels[1]', {'name': 'version', 'value': '2'}, 'labels[1].name', 'must be unique', True),
    ('label-called-name', 'labels[0].name', 'name', 'labels[0].name', 'cannot be a label', True),
    ('label-bad-name', 'labels[0].name', 'Version', 'labels[0].name', 'not an AC Identifier', True),
    ('label-value-number', 'labels[0].value', 1, 'labels[0].value', 'must be a string', True),
    ('os-unknown', 'labels[1].value', 'windows', 'labels[1].value', 'allowed: darwin, freebsd, linux', True),
    ('arch-wrong-for-os', 'labels[2].value', 'x86_64', 'labels[2].value', 'allowed: amd64, i386, aarch64', True),
    ('app-not-object', 'app', ['/bin/sh'], 'app', 'must be an object', True),
    ('exec-string', 'app.exec', '/usr/bin/app', 'app.exec', 'non-empty list of strings', True),
    ('exec-empty', 'app.exec', [], 'app.exec', 'non-empty list of strings', False),
    ('exec-missing', 'app.exec', DELETE, 'app.exec', 'non-empty list of strings', False),
    ('user-empty', 'app.user', '', 'app.user', 'non-empty string', True),
    ('group-missing', 'app.group', DELETE, 'app.group', 'non-empty string', True),
    ('user-number', 'app.user', 0, 'app.user', 'non-empty string', True),
    ('gid-negative', 'app.supplementaryGIDs[1]', -1, 'app.supplementaryGIDs[1]', 'a group ID 0 or more', False),
    ('workdir-relative', 'app.workingDirectory', 'srv', 'app.workingDirectory', 'absolute path', True),
    ('env-bad-name', 'app.environment[0].name', '1PATH', 'app.environment[0].name',
     'letter or "_" followed by', True),
    ('env-empty-name', 'app.environment[0].name', '', 'app.environment[0].name', 'non-empty string', True),
    ('env-duplicate', 'app.environment[1].name', 'PATH', 'app.environment[1].name', 'must be unique', True),
    ('env-not-pairs', 'app.environment', {'PATH': '/bin'}, 'app.environment', 'must be a list', True),
    ('handler-name', 'app.eventHandlers[1].name', 'post-start', 'app.eventHandlers[1].name',
     'allowed: pre-start, post-stop', True),
    ('handler-duplicate', 'app.eventHandlers[1].name', 'pre-start', 'app.eventHandlers[1].name', 'must be unique', True),
    ('mount-name', 'app.mountPoints[0].name', 'Data', 'app.mountPoints[0].name', 'not an AC Name', True),
    ('mount-name-dot', 'app.mountPoints[0].name', 'my.data', 'app.mountPoints[0].name', 'not an AC Name', True),
    ('mount-path-relative', 'app.mountPoints[0].path', 'var/lib', 'app.mountPoints[0].path', 'absolute path', False),
    ('mount-readonly-string', 'app.mountPoints[0].readOnly', 'yes', 'app.mountPoints[0].readOnly', 'true or false',
     True),
    ('port-too-high', 'app.ports[1].port', 70000, 'app.ports[1].port', 'from 1 to 65535', True),
    ('port-zero', 'app.ports[0].port', 0, 'app.ports[0].port', 'from 1 to 65535', True),
    ('port-string', 'app.ports[0].port', '80', 'app.ports[0].port', 'from 1 to 65535', True),
    ('port-range-overflow', 'app.ports[1].count', 46000, 'app.ports[1].count', 'ends past 65535', True),
    ('port-name', 'app.ports[0].name', 'HTTP', 'app.ports[0].name', 'not an AC Name', True),
    ('port-name-missing', 'app.ports[0].name', DELETE, 'app.ports[0].name', 'AC Name', False),
    ('port-protocol-empty', 'app.ports[0].protocol', '', 'app.ports[0].protocol', '"tcp" or "udp"', False),
    ('port-duplicate', 'app.ports[1].name', 'http', 'app.ports[1].name', 'must be unique', False),
    ('isolator-cpu-shares', 'app.isolators[4]', {'name': 'os/linux/cpu-shares', 'value': 1},
     'app.isolators[4].value', 'from 2 to 262144', True),
    ('isolator-oom', 'app.isolators[4].value', 1001, 'app.isolators[4].value', 'from -1000 to 1000', True),
    ('isolator-memory-default', 'app.isolators[1].value', {'default': True, 'limit': '1G'},
     'app.isolators[1].value.default', 'must be false', True),
    ('isolator-quantity', 'app.isolators[1].value.limit', 'lots', 'app.isolators[1].value.limit', 'not a quantity',
     True),
    ('isolator-caps-empty', 'app.isolators[2].value', {'set': []}, 'app.isolators[2].value.set', 'non-empty list',
     True),
    ('isolator-seccomp-conflict', 'app.isolators[3]',
     {'name': 'os/linux/seccomp-remove-set', 'value': {'set': ['reboot']}}, 'app.isolators[5].name',
     'cannot be combined', True),
    ('isolator-errno', 'app.isolators[5].value.errno', 'eperm', 'app.isolators[5].value.errno', 'errno name', True),
    ('isolator-name', 'app.isolators[0].name', 'Resource/CPU', 'app.isolators[0].name', 'not an AC Identifier', True),
    ('created-not-date', 'annotations[1].value', 'yesterday', 'annotations[1].value', 'RFC 3339', True),
    ('created-no-zone', 'annotations[1].value', '2014-10-27T19:32:27', 'annotations[1].value', 'RFC 3339', True),
    ('created-bad-day', 'annotations[1].value', '2014-02-30T19:32:27Z', 'annotations[1].value', 'RFC 3339', True),
    ('homepage-ftp', 'annotations[3].value', 'ftp://example.com', 'annotations[3].value', 'http:// or https://',
     True),
    ('documentation-relative', 'annotations[2].value', 'docs/index.html', 'annotations[2].value',
     'http:// or https://', True),
    ('annotation-duplicate', 'annotations[0].name', 'created', 'annotations[1].name', 'must be unique', True),
    ('annotation-name', 'annotations[0].name', 'Authors', 'annotations[0].name', 'not an AC Identifier', True),
    ('dependency-name', 'dependencies[0].imageName', '', 'dependencies[0].imageName', 'non-empty string', True),
    ('dependency-id', 'dependencies[0].imageID', 'md5-0123', 'dependencies[0].imageID', '"sha512-"', True),
    ('dependency-os', 'dependencies[0].labels[0].value', 'plan9', 'dependencies[0].labels[0].value',
     'allowed: darwin, freebsd, linux', True),
    ('dependency-size', 'dependencies[0].size', -1, 'dependencies[0].size', '0 or more', True),
    ('whitelist-relative', 'pathWhitelist[0]', 'etc/app.conf', 'pathWhitelist[0]', 'absolute path', False),
]


@pytest.mark.parametrize('field, value, path, words', [case[1:5] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_manifest_names_the_field_and_what_is_allowed(field, value, path, words):
    errors, dummy = acm.check_manifest(mutate(GOOD, field, value))
    matching = [e for e in errors if e.startswith(path + ': ')]
    assert matching, 'no error about %s in %r' % (path, errors)
    assert any(words in e for e in matching), 'expected %r in %r' % (words, matching)
    with pytest.raises(acm.ManifestError) as info:
        acm.validate_manifest(mutate(GOOD, field, value))
    assert path in str(info.value)


def test_good_manifest_is_valid_without_warnings():
    assert acm.check_manifest(GOOD) == ([], [])
    assert acm.validate_manifest(GOOD) == []


def _reference_accepts(actool, tmp_path, manifest):
    """Whether actool accepts an image holding ``manifest`` (tar made with Python's tarfile, not ours)."""
    path = tmp_path / 'image.aci'
    data = json.dumps(manifest).encode()
    with tarfile.open(path, 'w') as tar:
        info = tarfile.TarInfo('manifest')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        rootfs = tarfile.TarInfo('rootfs')
        rootfs.type, rootfs.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(rootfs)
    proc = subprocess.run([actool, 'validate', str(path)], capture_output=True, text=True, check=False)
    return proc.returncode == 0


def test_reference_validator_agrees(actool, tmp_path):
    """Every case appc's actool rejects, we reject; where we are stricter, the corpus says so."""
    assert _reference_accepts(actool, tmp_path, GOOD)
    disagreements = []
    for case_id, field, value, dummy, dummy, reference_rejects in BAD:
        if _reference_accepts(actool, tmp_path, mutate(GOOD, field, value)) == reference_rejects:
            disagreements.append(case_id)
    assert disagreements == []


def test_all_errors_are_reported_at_once():
    bad = mutate(mutate(GOOD, 'name', 'Bad Name'), 'app.ports[0].port', 0)
    errors, dummy = acm.check_manifest(bad)
    assert [e.split(':')[0] for e in errors] == ['name', 'app.ports[0].port']
    with pytest.raises(acm.ManifestError) as info:
        acm.validate_manifest(bad, source='src/manifest')
    assert info.value.errors == errors
    assert str(info.value).startswith('src/manifest is not a valid appc ImageManifest: name: ')


@pytest.mark.parametrize('labels, expected', [
    ([], ['labels: no "os" label', 'labels: no "arch" label']),
    ([{'name': 'os', 'value': 'linux'}], ['labels: no "arch" label']),
    ([{'name': 'arch', 'value': 'amd64'}], ['labels[0]: an arch label means nothing without an os label',
                                            'labels: no "os" label']),
])
def test_missing_os_arch_is_a_warning(labels, expected):
    errors, warnings = acm.check_manifest(mutate(GOOD, 'labels', labels))
    assert errors == []
    assert [w[:len(e)] for w, e in zip(warnings, expected)] == expected and len(warnings) == len(expected)


def test_no_labels_at_all_warns_about_os_and_arch():
    errors, warnings = acm.check_manifest(mutate(GOOD, 'labels', DELETE))
    assert errors == [] and len(warnings) == 2 and 'rkt' in warnings[0]


@pytest.mark.parametrize('field, value, path, words', [
    ('app.workingDir', '/srv', 'app.workingDir', 'did you mean "workingDirectory"'),
    ('app.exec', ['app'], 'app.exec[0]', 'not an absolute path'),
    ('app.ports[0].protocol', 'sctp', 'app.ports[0].protocol', 'not tcp or udp'),
    ('app.isolators[0].name', 'example.com/custom', 'app.isolators[0].name', 'not an isolator appc'),
    ('acVersion', '1.0.0', 'acVersion', 'newer than'),
    ('labelz', [], 'labelz', 'did you mean "labels"'),
])
def test_warnings_name_the_field(field, value, path, words):
    errors, warnings = acm.check_manifest(mutate(GOOD, field, value))
    assert errors == []
    assert any(w.startswith(path + ': ') and words in w for w in warnings), warnings


@pytest.mark.parametrize('os_name, arch', [(o, a) for o, archs in acm.VALID_OS_ARCH.items() for a in archs])
def test_every_spec_os_arch_pair_is_accepted(os_name, arch):
    labels = [{'name': 'os', 'value': os_name}, {'name': 'arch', 'value': arch}]
    assert acm.check_manifest(mutate(GOOD, 'labels', labels)) == ([], [])


def test_minimal_manifest_needs_only_kind_version_and_name():
    errors, warnings = acm.check_manifest({'acKind': 'ImageManifest', 'acVersion': '0.8.11', 'name': 'a'})
    assert errors == [] and len(warnings) == 2


def test_not_an_object():
    assert acm.check_manifest([]) == (['manifest: must be a JSON object, got an array'], [])


@pytest.mark.parametrize('value, valid', [
    ('2026-01-31T12:00:00Z', True),
    ('2026-01-31T12:00:00.123456789+05:30', True),
    ('2026-01-31T12:00:00-00:00', True),
    ('2026-01-31 12:00:00Z', False),
    ('2026-01-31T12:00Z', False),
    ('2026-13-01T12:00:00Z', False),
    ('2026-01-31T24:00:00Z', False),
    ('2026-01-31T12:00:60Z', False),
    ('2026-01-31t12:00:00z', False),
    (20260131, False),
])
def test_rfc3339(value, valid):
    assert acm.is_rfc3339(value) is valid


def test_rfc3339_to_epoch():
    assert acm.rfc3339_to_epoch('1970-01-01T00:00:10Z') == 10
    assert acm.rfc3339_to_epoch('1970-01-01T01:00:10.9+01:00') == 10
    assert acm.rfc3339_to_epoch('nope') is None


@pytest.mark.parametrize('value, identifier, name', [
    ('example.com/app', True, False), ('app-1', True, True), ('a', True, True), ('a~b_c', True, False),
    ('', False, False), ('A', False, False), ('a-', False, False), ('a/-b', False, False),
])
def test_ac_identifier_and_name(value, identifier, name):
    assert acm.is_ac_identifier(value) is identifier
    assert acm.is_ac_name(value) is name


def test_parse_manifest_errors_are_clear():
    with pytest.raises(acm.ManifestError) as info:
        acm.parse_manifest(b'{"acKind": "ImageManifest",\n  "name": }', 'src/manifest')
    assert 'src/manifest' in str(info.value) and 'not valid JSON' in str(info.value) and 'line 2' in str(info.value)
    with pytest.raises(acm.ManifestError, match='must be a JSON object'):
        acm.parse_manifest(b'[1]')
    with pytest.raises(acm.ManifestError, match='not UTF-8'):
        acm.parse_manifest(b'{"name": "\xff"}')
    assert acm.parse_manifest(json.dumps(GOOD).encode()) == GOOD


def test_canonical_json_is_stable_and_ordered():
    shuffled = json.loads(json.dumps(GOOD, sort_keys=True))
    shuffled['app'] = dict(reversed(list(shuffled['app'].items())))
    assert acm.canonical_json(shuffled) == acm.canonical_json(GOOD)
    text = acm.canonical_json(GOOD).decode()
    assert text.startswith('{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/tools/app","labels":')
    assert text.index('"app"') < text.index('"annotations"') < text.index('"dependencies"')
    assert '"exec":["/usr/bin/app","--quiet"],"eventHandlers"' in text
    assert '{"name":"http","protocol":"tcp","port":8080,"socketActivated":true}' in text
    assert json.loads(text) == GOOD
    unicode = acm.canonical_json(mutate(GOOD, 'annotations[0].value', 'Zoë'))
    assert 'Zoë'.encode() in unicode
    assert acm.pretty_json(GOOD).startswith('{\n  "acKind": "ImageManifest"')


def test_label_and_annotation_lookup():
    assert acm.get_label(GOOD, 'os') == 'linux'
    assert acm.get_label(GOOD, 'nope') is None
    assert acm.get_annotation(GOOD, 'homepage') == 'http://example.com'
    assert acm.get_label({}, 'os') is None


def options(**given):
    result = dict.fromkeys(acm.MANIFEST_OPTIONS)
    result.update(given)
    return result


def test_builder_makes_a_valid_manifest_from_options():
    built = acm.manifest_from_options(options(
        name='example.com/hello',
        labels={'version': '1.0', 'os': 'linux', 'arch': 'amd64'},
        exec=['/bin/hello', '-v'], user='0', group='0', supplementary_gids=[5],
        environment={'MODE': 'prod', 'DEBUG': False, 'WORKERS': 4},
        working_directory='/srv',
        ports=[{'name': 'http', 'protocol': 'tcp', 'port': 80, 'count': None, 'socket_activated': None}],
        mount_points=[{'name': 'data', 'path': '/data', 'read_only': True}],
        event_handlers=[{'name': 'pre-start', 'exec': ['/bin/prepare']}],
        isolators=[{'name': 'resource/memory', 'value': {'limit': '512M'}}],
        annotations={'created': '2026-01-31T12:00:00Z'},
        dependencies=[{'image_name': 'example.com/base', 'image_id': None, 'labels': {'os': 'linux'}, 'size': None}],
    ))
    assert acm.check_manifest(built) == ([], [])
    assert built == {
        'acKind': 'ImageManifest', 'acVersion': acm.AC_VERSION, 'name': 'example.com/hello',
        'labels': [{'name': 'version', 'value': '1.0'}, {'name': 'os', 'value': 'linux'},
                   {'name': 'arch', 'value': 'amd64'}],
        'app': {
            'exec': ['/bin/hello', '-v'],
            'eventHandlers': [{'name': 'pre-start', 'exec': ['/bin/prepare']}],
            'user': '0', 'group': '0', 'supplementaryGIDs': [5], 'workingDirectory': '/srv',
            'environment': [{'name': 'MODE', 'value': 'prod'}, {'name': 'DEBUG', 'value': 'false'},
                            {'name': 'WORKERS', 'value': '4'}],
            'mountPoints': [{'name': 'data', 'path': '/data', 'readOnly': True}],
            'ports': [{'name': 'http', 'protocol': 'tcp', 'port': 80}],
            'isolators': [{'name': 'resource/memory', 'value': {'limit': '512M'}}],
        },
        'annotations': [{'name': 'created', 'value': '2026-01-31T12:00:00Z'}],
        'dependencies': [{'imageName': 'example.com/base', 'labels': [{'name': 'os', 'value': 'linux'}]}],
    }
    assert list(built) == ['acKind', 'acVersion', 'name', 'labels', 'app', 'annotations', 'dependencies']


def test_builder_overrides_a_base_manifest():
    patched = acm.manifest_from_options(options(
        name='registry.example.com/mirror/app',
        labels={'version': '2.0.0', 'arch': None, 'channel': 'stable'},
        environment={'PATH': None, 'NEW': 'x'},
        exec=['/usr/bin/app', '--loud'],
        annotations={'homepage': 'https://registry.example.com'},
    ), base=GOOD)
    assert patched['name'] == 'registry.example.com/mirror/app'
    assert patched['labels'] == [{'name': 'version', 'value': '2.0.0'}, {'name': 'os', 'value': 'linux'},
                                 {'name': 'channel', 'value': 'stable'}]
    assert patched['app']['environment'] == [{'name': 'app.mode-1', 'value': ''}, {'name': 'NEW', 'value': 'x'}]
    assert patched['app']['exec'] == ['/usr/bin/app', '--loud']
    assert patched['app']['ports'] == GOOD['app']['ports']
    assert acm.get_annotation(patched, 'homepage') == 'https://registry.example.com'
    assert GOOD['name'] == 'example.com/tools/app', 'the base must not be modified'


def test_builder_without_options_keeps_the_base():
    assert acm.manifest_from_options(options(), base=GOOD) == GOOD


def test_builder_app_without_user_fails_validation_with_guidance():
    built = acm.manifest_from_options(options(name='example.com/x', exec=['/bin/x']))
    errors, dummy = acm.check_manifest(built)
    assert [e.split(':')[0] for e in errors] == ['app.user', 'app.group']
    assert 'numeric ID' in errors[0]
