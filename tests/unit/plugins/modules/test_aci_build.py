# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci.registry.aci_build run in-process: idempotence, check mode, re-packaging, failures that write nothing."""

import json
import os
import stat

import pytest
import yaml

from ansible_collections.aci.registry.plugins.doc_fragments import aci_manifest
from ansible_collections.aci.registry.plugins.module_utils import aci, build
from ansible_collections.aci.registry.plugins.module_utils.manifest import MANIFEST_OPTIONS

LABELS = {'version': '1.0.0', 'os': 'linux', 'arch': 'amd64'}


@pytest.fixture
def run(run_aci_build):
    return run_aci_build


@pytest.fixture
def rootfs(tmp_path):
    root = tmp_path / 'rootfs'
    (root / 'usr' / 'bin').mkdir(parents=True)
    (root / 'usr' / 'bin' / 'hello').write_bytes(b'#!/bin/sh\necho hello\n')
    os.chmod(root / 'usr' / 'bin' / 'hello', 0o755)
    (root / 'etc').mkdir()
    (root / 'etc' / 'motd').write_bytes(b'welcome\n')
    os.symlink('motd', root / 'etc' / 'motd.link')
    return root


def build_args(rootfs, dest, **extra):
    args = dict(rootfs=str(rootfs), dest=str(dest), name='example.com/hello', labels=LABELS,
                exec=['/usr/bin/hello'], user='0', group='0')
    args.update(extra)
    return args


def files_in(directory):
    return sorted(os.listdir(str(directory)))


def test_four_calls_check_run_check_run(run, tmp_path, rootfs, actool_validate):
    dest = tmp_path / 'out' / 'hello.aci'
    dest.parent.mkdir()
    args = build_args(rootfs, dest)
    first_check = run(args, check_mode=True, expect_failure=False)
    assert first_check['changed'] and not dest.exists()
    assert first_check['size'] is None and first_check['image_id'].startswith('sha512-')
    first_run = run(args, expect_failure=False)
    assert first_run['changed']
    assert first_run['image_id'] == first_check['image_id'], 'check mode predicts the image ID'
    assert first_run['size'] == dest.stat().st_size and first_run['compression'] == 'gzip'
    assert first_run['manifest']['name'] == 'example.com/hello'
    actool_validate(dest)
    before = dest.stat()
    content = dest.read_bytes()
    second_check = run(args, check_mode=True, expect_failure=False)
    second_run = run(args, expect_failure=False)
    assert (second_check['changed'], second_run['changed']) == (False, False)
    assert second_check['image_id'] == second_run['image_id'] == first_run['image_id']
    assert second_run['size'] == first_run['size']
    after = dest.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino), 'a no-op leaves the file alone'
    assert dest.read_bytes() == content
    assert files_in(dest.parent) == ['hello.aci']
    assert stat.S_IMODE(after.st_mode) == 0o644
    recorded = aci.recorded_identity(str(dest))
    assert recorded is None or recorded[:2] == (first_run['image_id'], first_run['tar_size'])


def test_rebuild_from_scratch_is_byte_identical(run, tmp_path, rootfs):
    dest = tmp_path / 'hello.aci'
    first = run(build_args(rootfs, dest), expect_failure=False)
    content = dest.read_bytes()
    dest.unlink()
    second = run(build_args(rootfs, dest), expect_failure=False)
    assert second['changed'] and second['image_id'] == first['image_id']
    assert dest.read_bytes() == content


@pytest.mark.parametrize('change', ['file', 'manifest', 'compression', 'owner'])
def test_changes_are_detected(run, tmp_path, rootfs, actool_validate, change):
    dest = tmp_path / 'hello.aci'
    first = run(build_args(rootfs, dest), expect_failure=False)
    args = build_args(rootfs, dest)
    if change == 'file':
        (rootfs / 'etc' / 'motd').write_bytes(b'changed\n')
    elif change == 'manifest':
        args['labels'] = dict(LABELS, version='1.0.1')
    elif change == 'compression':
        args['compression'] = 'xz'
    else:
        args['owner_root'] = True
        os.chown(rootfs / 'etc' / 'motd', 1000, 1000)
        (rootfs / 'etc' / 'motd').chmod(0o600)
    check = run(args, check_mode=True, expect_failure=False)
    second = run(args, expect_failure=False)
    assert check['changed'] and second['changed']
    assert check['image_id'] == second['image_id']
    assert (second['image_id'] != first['image_id']) == (change != 'compression')
    assert aci.detect_compression(str(dest)) == args.get('compression', 'gzip')
    actool_validate(dest)
    assert run(args, expect_failure=False)['changed'] is False


@pytest.mark.parametrize('compression', ['none', 'bzip2', 'xz'])
def test_other_compressions_are_idempotent(run, tmp_path, rootfs, actool_validate, compression):
    dest = tmp_path / 'hello.aci'
    args = build_args(rootfs, dest, compression=compression, compression_level=1 if compression != 'none' else None)
    assert run(args, expect_failure=False)['changed']
    assert aci.detect_compression(str(dest)) == compression
    actool_validate(dest)
    assert not run(args, expect_failure=False)['changed']


def test_mode_and_file_attributes(run, tmp_path, rootfs):
    dest = tmp_path / 'hello.aci'
    run(build_args(rootfs, dest, mode='0600'), expect_failure=False)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    result = run(build_args(rootfs, dest, mode='0640'), expect_failure=False)
    assert result['changed'] and stat.S_IMODE(dest.stat().st_mode) == 0o640


def test_warnings_for_missing_os_arch_and_sockets(run, tmp_path, rootfs, warnings, actool_validate):
    import socket
    short = tmp_path / 'r'
    os.rename(str(rootfs), str(short))
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(short / 's'))
    try:
        result = run(build_args(short, tmp_path / 'x.aci', labels={'version': '1'}),
                     expect_failure=False)
    finally:
        server.close()
    assert result['changed']
    assert any(w.startswith('labels: no "os" label') for w in warnings)
    assert any(w.startswith('labels: no "arch" label') for w in warnings)
    assert 'rootfs/s: socket skipped (sockets cannot be stored in an image)' in warnings
    actool_validate(tmp_path / 'x.aci')


def test_layout_src_with_overrides(run, tmp_path, rootfs, actool_validate):
    src = tmp_path / 'layout'
    src.mkdir()
    os.rename(str(rootfs), str(src / 'rootfs'))
    (src / 'manifest').write_text(json.dumps({
        'acKind': 'ImageManifest', 'acVersion': '0.8.11', 'name': 'example.com/layout',
        'labels': [{'name': 'os', 'value': 'linux'}, {'name': 'arch', 'value': 'amd64'}],
        'app': {'exec': ['/usr/bin/hello'], 'user': '0', 'group': '0'}}))
    dest = tmp_path / 'layout.aci'
    result = run(dict(src=str(src), dest=str(dest), labels={'version': '2'},
                      environment={'GREETING': 'hi'}), expect_failure=False)
    assert result['manifest']['name'] == 'example.com/layout'
    assert result['manifest']['labels'][-1] == {'name': 'version', 'value': '2'}
    assert result['manifest']['app']['environment'] == [{'name': 'GREETING', 'value': 'hi'}]
    actool_validate(dest)
    assert aci.read_manifest(str(dest)) == result['manifest']


def test_from_aci_rename(run, tmp_path, rootfs, actool_validate):
    base = tmp_path / 'upstream.aci'
    upstream = run(build_args(rootfs, base, annotations={'homepage': 'https://example.com'}),
                   expect_failure=False)
    dest = tmp_path / 'mirror.aci'
    args = dict(from_aci=str(base), dest=str(dest), name='registry.example.com/mirror/hello',
                annotations={'homepage': None, 'documentation': 'https://registry.example.com/docs'})
    check = run(args, check_mode=True, expect_failure=False)
    assert check['changed'] and not dest.exists()
    renamed = run(args, expect_failure=False)
    assert renamed['changed'] and renamed['image_id'] == check['image_id'] != upstream['image_id']
    manifest = aci.read_manifest(str(dest))
    assert manifest['name'] == 'registry.example.com/mirror/hello'
    assert manifest['annotations'] == [{'name': 'documentation', 'value': 'https://registry.example.com/docs'}]
    assert manifest['app'] == upstream['manifest']['app'] and manifest['labels'] == upstream['manifest']['labels']
    actool_validate(dest)
    old = dict((e.name, (e.kind, e.mode, e.size, e.linkname)) for e in aci.iter_entries(str(base)) if e.name != 'manifest')
    new = dict((e.name, (e.kind, e.mode, e.size, e.linkname)) for e in aci.iter_entries(str(dest)) if e.name != 'manifest')
    assert new == old
    assert run(args, expect_failure=False)['changed'] is False


def test_from_aci_in_place(run, tmp_path, rootfs, actool_validate):
    image = tmp_path / 'hello.aci'
    run(build_args(rootfs, image), expect_failure=False)
    result = run(dict(from_aci=str(image), dest=str(image), name='example.com/renamed'),
                 expect_failure=False)
    assert result['changed'] and aci.read_manifest(str(image))['name'] == 'example.com/renamed'
    assert files_in(tmp_path) == ['hello.aci', 'rootfs']
    actool_validate(image)


def test_diff_shows_the_manifest(run, tmp_path, rootfs):
    dest = tmp_path / 'hello.aci'
    first = run(build_args(rootfs, dest), diff=True, expect_failure=False)
    assert first['diff']['before'] == '' and '"name": "example.com/hello"' in first['diff']['after']
    second = run(build_args(rootfs, dest, user='1000'), check_mode=True, diff=True,
                 expect_failure=False)
    assert '"user": "0"' in second['diff']['before'] and '"user": "1000"' in second['diff']['after']


# ---------------------------------------------------------------------------------------------
# Failures: a clear message, nothing written


def assert_untouched(directory, expected_files, dest=None, content=None, mtime=None):
    assert files_in(directory) == expected_files, 'no temporary or partial file may stay'
    if dest is not None:
        assert dest.read_bytes() == content and dest.stat().st_mtime_ns == mtime


@pytest.mark.parametrize('options, words', [
    (dict(name='Example.com/Hello'), 'name: "Example.com/Hello" is not an AC Identifier'),
    (dict(labels={'os': 'linux', 'arch': 'x86_64'}), 'labels[1].value: arch "x86_64" is not supported on linux; '
                                                     'allowed: amd64'),
    (dict(labels={'os': 'windows'}), 'labels[0].value: os "windows" is not supported'),
    (dict(labels={'name': 'x'}), 'labels[0].name: "name" cannot be a label'),
    (dict(user=''), 'app.user: must be a non-empty string'),
    (dict(working_directory='srv'), 'app.workingDirectory: "srv" is not allowed; the working directory must be '
                                    'an absolute path'),
    (dict(environment={'1X': 'y'}), 'app.environment[0].name: "1X" is not a valid environment variable name'),
    (dict(ports=[{'name': 'http', 'port': 80}, {'name': 'https', 'port': 70000}]),
     'app.ports[1].port: 70000 is not allowed; must be a port number from 1 to 65535'),
    (dict(ports=[{'name': 'Web', 'port': 80}]), 'app.ports[0].name: "Web" is not an AC Name'),
    (dict(mount_points=[{'name': 'data', 'path': 'data'}]), 'app.mountPoints[0].path: "data" is not allowed'),
    (dict(annotations={'created': 'today'}), 'annotations[0].value: "today" is not an RFC 3339 date-time'),
    (dict(annotations={'homepage': 'example.com'}), 'annotations[0].value: "example.com" is not allowed; '
                                                    'homepage must be an http:// or https:// URL'),
    (dict(isolators=[{'name': 'os/linux/cpu-shares', 'value': 1}]), 'app.isolators[0].value: 1 is not allowed'),
    (dict(dependencies=[{'image_name': 'example.com/base', 'image_id': 'sha256-00'}]),
     'dependencies[0].imageID: "sha256-00" is not an image ID'),
    (dict(compression='xz', compression_level=10), 'compression_level 10 is not allowed for xz; use 0 to 9'),
    (dict(name=None), 'name: required when building from rootfs'),
])
def test_bad_options_fail_before_writing(run, tmp_path, rootfs, options, words):
    dest = tmp_path / 'hello.aci'
    dest.write_bytes(b'previous image')
    mtime = dest.stat().st_mtime_ns
    for check_mode in (True, False):
        result = run(build_args(rootfs, dest, **options), check_mode=check_mode,
                     expect_failure=True)
        assert words in result['msg'], result['msg']
    assert_untouched(tmp_path, ['hello.aci', 'rootfs'], dest, b'previous image', mtime)


def test_bad_manifest_failure_lists_every_error(run, tmp_path, rootfs):
    result = run(build_args(rootfs, tmp_path / 'x.aci', name='Bad', user='',
                            working_directory='rel'), expect_failure=True)
    assert [e.split(':')[0] for e in result['errors']] == ['name', 'app.user', 'app.workingDirectory']
    assert result['msg'].startswith('the resulting manifest is not a valid appc ImageManifest: ')
    assert files_in(tmp_path) == ['rootfs']


def test_bad_trees_fail_and_write_nothing(run, tmp_path, rootfs):
    dest = tmp_path / 'hello.aci'
    run(build_args(rootfs, dest), expect_failure=False)
    content, mtime = dest.read_bytes(), dest.stat().st_mtime_ns
    open(os.path.join(str(rootfs).encode(), b'bad-\xff'), 'wb').close()
    result = run(build_args(rootfs, dest), expect_failure=True)
    assert 'is not valid UTF-8' in result['msg']
    assert_untouched(tmp_path, ['hello.aci', 'rootfs'], dest, content, mtime)
    result = run(build_args(tmp_path / 'missing', dest), expect_failure=True)
    assert 'missing is not a directory' in result['msg']
    assert_untouched(tmp_path, ['hello.aci', 'rootfs'], dest, content, mtime)


def test_bad_src_layout(run, tmp_path, rootfs):
    src = tmp_path / 'layout'
    src.mkdir()
    os.rename(str(rootfs), str(src / 'rootfs'))
    (src / 'manifest').write_text('{"acKind": "ImageManifest"')
    result = run(dict(src=str(src), dest=str(tmp_path / 'x.aci')), expect_failure=True)
    assert 'not valid JSON' in result['msg']
    (src / 'manifest').write_text('{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "x", "app": {}}')
    result = run(dict(src=str(src), dest=str(tmp_path / 'x.aci')), expect_failure=True)
    assert 'app.exec: must be a non-empty list of strings' in result['msg']
    assert files_in(tmp_path) == ['layout']


def test_bad_from_aci(run, tmp_path):
    import tarfile
    bad = tmp_path / 'evil.aci'
    with tarfile.open(str(bad), 'w:gz') as tar:
        tar.add(__file__, arcname='rootfs/../../etc/cron.d/x')
    result = run(dict(from_aci=str(bad), dest=str(tmp_path / 'x.aci')), expect_failure=True)
    assert 'contains ".."' in result['msg']
    junk = tmp_path / 'junk.aci'
    junk.write_bytes(b'404 not found')
    result = run(dict(from_aci=str(junk), dest=str(tmp_path / 'x.aci')), expect_failure=True)
    assert 'is not an ACI' in result['msg']
    assert files_in(tmp_path) == ['evil.aci', 'junk.aci']


@pytest.mark.parametrize('how', ['deflate', 'truncated'])
def test_a_damaged_from_aci_fails_naming_it(run, tmp_path, rootfs, gzip_reader, damaged_gzip, how):
    (rootfs / 'srv').mkdir()
    (rootfs / 'srv' / 'data').write_bytes(b''.join(b'line %d of an image file\n' % i for i in range(20000)))
    good = tmp_path / 'good.aci'
    run(build_args(rootfs, good, compression='none'), expect_failure=False)
    damaged = tmp_path / 'damaged.aci'
    damaged.write_bytes(damaged_gzip(good.read_bytes(), how))
    dest = tmp_path / 'out' / 'renamed.aci'
    dest.parent.mkdir()
    for check_mode in (True, False):
        result = run(dict(from_aci=str(damaged), dest=str(dest), name='example.com/renamed'), check_mode=check_mode,
                     expect_failure=True)
        assert result['msg'].startswith('%s is damaged or truncated: ' % damaged), result['msg']
    assert files_in(dest.parent) == [], 'nothing may be written'


def test_dest_inside_the_tree_or_a_directory(run, tmp_path, rootfs):
    result = run(build_args(rootfs, rootfs / 'etc' / 'self.aci'), expect_failure=True)
    assert 'the image would contain itself' in result['msg']
    result = run(build_args(rootfs, tmp_path), expect_failure=True)
    assert 'is a directory' in result['msg']
    result = run(build_args(rootfs, tmp_path / 'nope' / 'x.aci'), expect_failure=True)
    assert 'does not exist' in result['msg']


def test_exactly_one_source(run, tmp_path, rootfs):
    result = run(dict(dest=str(tmp_path / 'x.aci')), expect_failure=True)
    assert 'one of the following is required: src, rootfs, from_aci' in result['msg']
    result = run(build_args(rootfs, tmp_path / 'x.aci', src=str(rootfs)), expect_failure=True)
    assert 'mutually exclusive' in result['msg']


def test_a_failing_write_keeps_the_previous_image(monkeypatch, run, tmp_path, rootfs):
    dest = tmp_path / 'hello.aci'
    run(build_args(rootfs, dest), expect_failure=False)
    content, mtime = dest.read_bytes(), dest.stat().st_mtime_ns

    def broken(fileobj, chunks, compression, level):
        fileobj.write(b'half an image')
        raise aci.AciError('disk full')

    monkeypatch.setattr(aci, 'write_image', broken)
    result = run(build_args(rootfs, dest, exec=['/usr/bin/other']), expect_failure=True)
    assert result['msg'] == 'disk full'
    assert_untouched(tmp_path, ['hello.aci', 'rootfs'], dest, content, mtime)


@pytest.mark.parametrize('check_mode', [True, False])
def test_an_unwritable_dest_directory_fails_in_check_mode_too(monkeypatch, run, tmp_path, rootfs, check_mode):
    out = tmp_path / 'out'
    out.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, 'access', lambda path, mode: path != str(out) and real_access(path, mode))
    result = run(build_args(rootfs, out / 'hello.aci'), check_mode=check_mode, expect_failure=True)
    assert result['msg'] == 'Cannot write %s: directory %s is not writable by this user.' % (out / 'hello.aci', out)
    assert files_in(out) == []


# Every manifest option once, so the manifest option is shown to carry each of them.
EVERY_MANIFEST_FIELD = dict(
    exec=['/usr/bin/hello', '--serve'], user='1000', group='1000', supplementary_gids=[5, 6],
    environment={'MODE': 'production'}, working_directory='/srv',
    ports=[{'name': 'http', 'port': 8080}], mount_points=[{'name': 'data', 'path': '/srv/data', 'read_only': True}],
    event_handlers=[{'name': 'pre-start', 'exec': ['/usr/bin/hello', '--check']}],
    isolators=[{'name': 'resource/memory', 'value': {'limit': '512M'}}],
    annotations={'homepage': 'https://example.com'},
    dependencies=[{'image_name': 'example.com/base', 'labels': {'version': '1'}}],
)


def test_every_manifest_option_has_a_field_of_the_manifest_option():
    assert set(build.manifest_argument_spec()) == set(MANIFEST_OPTIONS) - {'name', 'labels'}
    assert set(EVERY_MANIFEST_FIELD) == set(build.manifest_argument_spec())


def test_the_manifest_option_is_documented_as_the_separate_options_are():
    # The fragment holds the text twice (ansible-test reads it as one literal): the copies must not drift.
    options = yaml.safe_load(aci_manifest.ModuleDocFragment.DOCUMENTATION)['options']
    suboptions = options.pop('manifest')['suboptions']
    assert suboptions == options
    assert set(options) == set(build.manifest_argument_spec())


@pytest.mark.parametrize('source', ['rootfs', 'from_aci'])
def test_the_manifest_option_builds_the_image_the_separate_options_build(run, tmp_path, rootfs, source):
    base = dict(dest=str(tmp_path / 'base.aci'), rootfs=str(rootfs), name='example.com/base', labels=LABELS,
                exec=['/bin/true'], user='0', group='0')
    run(base, expect_failure=False)
    tree = dict(rootfs=str(rootfs)) if source == 'rootfs' else dict(from_aci=base['dest'])
    common = dict(tree, name='example.com/hello', labels=LABELS)
    separate = run(dict(common, dest=str(tmp_path / 'separate.aci'), **EVERY_MANIFEST_FIELD), expect_failure=False)
    together = run(dict(common, dest=str(tmp_path / 'together.aci'), manifest=EVERY_MANIFEST_FIELD),
                   expect_failure=False)
    assert together['manifest'] == separate['manifest']
    assert together['manifest']['app']['supplementaryGIDs'] == [5, 6]
    assert together['image_id'] == separate['image_id']
    assert (tmp_path / 'together.aci').read_bytes() == (tmp_path / 'separate.aci').read_bytes()


def test_the_manifest_option_excludes_each_separate_option(run, tmp_path, rootfs):
    args = dict(rootfs=str(rootfs), dest=str(tmp_path / 'x.aci'), name='example.com/hello',
                manifest={'exec': ['/usr/bin/hello']}, user='0')
    result = run(args, expect_failure=True)
    assert 'mutually exclusive: manifest|user' in result['msg']
    assert files_in(tmp_path) == ['rootfs']


def test_a_misspelt_field_of_the_manifest_option_is_named(run, tmp_path, rootfs):
    args = dict(rootfs=str(rootfs), dest=str(tmp_path / 'x.aci'), name='example.com/hello',
                manifest={'exce': ['/usr/bin/hello'], 'user': '0', 'group': '0'})
    result = run(args, expect_failure=True)
    assert 'manifest' in result['msg'] and 'exce' in result['msg']
