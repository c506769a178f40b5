# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci.registry.aci_from_docker run in-process: idempotence, check mode, the three input layouts, failures that write nothing."""

import json
import os
import stat

import pytest

from ansible_collections.aci.registry.tests.unit.plugins.docker_archives import archives
from ansible_collections.aci.registry.plugins.module_utils import aci
from ansible_collections.aci.registry.plugins.modules import aci_from_docker


NAME = 'registry.example.com/mirror/app'


@pytest.fixture
def src(tmp_path):
    return archives.tar_files(tmp_path / 'app.tar', archives.classic_files([archives.sample()]))


def args_for(src, dest, **extra):
    args = dict(src=str(src), dest=str(dest), name=NAME)
    args.update(extra)
    return args


def files_in(directory):
    return sorted(os.listdir(str(directory)))


def test_four_calls_check_run_check_run(run_module, tmp_path, src, actool_validate, warnings):
    dest = tmp_path / 'out' / 'app.aci'
    dest.parent.mkdir()
    args = args_for(src, dest)
    first_check = run_module(aci_from_docker.main, args, check_mode=True, expect_failure=False)
    assert first_check['changed'] and not dest.exists()
    assert first_check['size'] is None and first_check['image_id'].startswith('sha512-')
    first_run = run_module(aci_from_docker.main, args, expect_failure=False)
    assert first_run['changed']
    assert first_run['image_id'] == first_check['image_id'], 'check mode predicts the image ID'
    assert first_run['size'] == dest.stat().st_size and first_run['compression'] == 'gzip'
    assert first_run['manifest'] == aci.read_manifest(str(dest))
    assert first_run['docker'] == dict(format='docker-archive', reference='example.com/team/app:1.2.3',
                                       image_id=first_run['docker']['image_id'], platform='linux/arm64/v8', layers=3)
    assert aci.image_id(str(dest)) == first_run['image_id']
    actool_validate(dest)
    before = dest.stat()
    content = dest.read_bytes()
    second_check = run_module(aci_from_docker.main, args, check_mode=True, expect_failure=False)
    second_run = run_module(aci_from_docker.main, args, expect_failure=False)
    assert (first_check['changed'], first_run['changed'], second_check['changed'], second_run['changed']) == \
        (True, True, False, False)
    assert second_check['image_id'] == second_run['image_id'] == first_run['image_id']
    assert second_run['size'] == first_run['size']
    after = dest.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino), 'a no-op leaves the file alone'
    assert dest.read_bytes() == content
    assert files_in(dest.parent) == ['app.aci']
    assert stat.S_IMODE(after.st_mode) == 0o644
    assert "Docker label 'Vendor' kept as annotation vendor (annotation names are AC Identifiers)" in warnings


def test_rebuild_from_scratch_is_byte_identical(run_module, tmp_path, src):
    dest = tmp_path / 'app.aci'
    first = run_module(aci_from_docker.main, args_for(src, dest), expect_failure=False)
    content = dest.read_bytes()
    dest.unlink()
    again = archives.tar_files(tmp_path / 'again.tar', archives.classic_files([archives.sample()]))
    second = run_module(aci_from_docker.main, args_for(again, dest), expect_failure=False)
    assert second['changed'] and second['image_id'] == first['image_id']
    assert dest.read_bytes() == content


@pytest.mark.parametrize('change', ['version', 'layer', 'compression', 'owner_root', 'name'])
def test_changes_are_detected(run_module, tmp_path, src, actool_validate, change):
    dest = tmp_path / 'app.aci'
    first = run_module(aci_from_docker.main, args_for(src, dest), expect_failure=False)
    args = args_for(src, dest)
    if change == 'version':
        args['version'] = '1.2.4'
    elif change == 'layer':
        layers = archives.LAYERS[:2] + [archives.LAYERS[2] + [archives.f('etc/new', b'new')]]
        image = archives.Img(layers, dict(archives.CONFIG), ['example.com/team/app:1.2.3'])
        args['src'] = str(archives.tar_files(tmp_path / 'changed.tar', archives.classic_files([image])))
    elif change == 'compression':
        args['compression'] = 'xz'
    elif change == 'owner_root':
        args['owner_root'] = True
    else:
        args['name'] = NAME + '-renamed'
    check = run_module(aci_from_docker.main, args, check_mode=True, expect_failure=False)
    run = run_module(aci_from_docker.main, args, expect_failure=False)
    assert check['changed'] and run['changed'] and check['image_id'] == run['image_id']
    assert (run['image_id'] != first['image_id']) == (change != 'compression')
    assert aci.detect_compression(str(dest)) == args.get('compression', 'gzip')
    actool_validate(dest)
    assert run_module(aci_from_docker.main, args, expect_failure=False)['changed'] is False


def test_owner_root_and_version(run_module, tmp_path, src):
    dest = tmp_path / 'app.aci'
    result = run_module(aci_from_docker.main, args_for(src, dest, owner_root=True, version='7.0.0', compression='none'),
                        expect_failure=False)
    assert result['manifest']['labels'][0] == {'name': 'version', 'value': '7.0.0'}
    assert all((e.uid, e.gid) == (0, 0) for e in aci.iter_entries(str(dest)))


def test_docker25_archive_and_oci_layout(run_module, tmp_path, src, actool_validate):
    classic = run_module(aci_from_docker.main, args_for(src, tmp_path / 'classic.aci'), expect_failure=False)
    docker25 = archives.tar_files(tmp_path / 'd25.tar', archives.docker25_files([archives.sample()], compress=True))
    result = run_module(aci_from_docker.main, args_for(docker25, tmp_path / 'd25.aci'), expect_failure=False)
    assert result['image_id'] == classic['image_id'], 'the same image, whichever docker save wrote it'
    assert (tmp_path / 'd25.aci').read_bytes() == (tmp_path / 'classic.aci').read_bytes()
    images = [archives.sample(arch='amd64', variant=None), archives.sample()]
    layout = archives.write_dir(tmp_path / 'layout', archives.oci_files(images, nested=True)[0])
    dest = tmp_path / 'oci.aci'
    args = args_for(layout, dest, platform='linux/arm64')
    check = run_module(aci_from_docker.main, args, check_mode=True, expect_failure=False)
    run = run_module(aci_from_docker.main, args, expect_failure=False)
    assert check['changed'] and run['changed'] and check['image_id'] == run['image_id']
    assert run['docker']['format'] == 'oci-layout' and run['docker']['platform'] == 'linux/arm64/v8'
    assert run['manifest'] == classic['manifest'], 'same tag, config and layers: same manifest'
    actool_validate(dest)
    assert run_module(aci_from_docker.main, args, expect_failure=False)['changed'] is False


def test_tag_chooses_among_several_images(run_module, tmp_path):
    tool = archives.Img([[archives.f('bin/tool', b'x', 0o755)]], {'Cmd': ['/bin/tool']}, ['tool:2'], arch='amd64')
    images = [archives.sample(tags=('app:1.2.3',)), tool]
    archive = archives.tar_files(tmp_path / 'two.tar', archives.classic_files(images))
    result = run_module(aci_from_docker.main, args_for(archive, tmp_path / 'tool.aci', tag='docker.io/library/tool:2'),
                        expect_failure=False)
    assert result['docker']['reference'] == 'tool:2'
    assert result['manifest']['labels'] == [{'name': 'version', 'value': '2'}, {'name': 'os', 'value': 'linux'},
                                            {'name': 'arch', 'value': 'amd64'}]
    assert result['manifest']['app']['exec'] == ['/bin/tool']


def test_diff_shows_the_manifest(run_module, tmp_path, src):
    dest = tmp_path / 'app.aci'
    first = run_module(aci_from_docker.main, args_for(src, dest), diff=True, expect_failure=False)
    assert first['diff']['before'] == '' and '"name": "%s"' % NAME in first['diff']['after']
    second = run_module(aci_from_docker.main, args_for(src, dest, version='9'), check_mode=True, diff=True,
                        expect_failure=False)
    assert '"value": "1.2.3"' in second['diff']['before'] and '"value": "9"' in second['diff']['after']


def test_mode_and_file_attributes(run_module, tmp_path, src):
    dest = tmp_path / 'app.aci'
    run_module(aci_from_docker.main, args_for(src, dest, mode='0600'), expect_failure=False)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    result = run_module(aci_from_docker.main, args_for(src, dest, mode='0640'), expect_failure=False)
    assert result['changed'] and stat.S_IMODE(dest.stat().st_mode) == 0o640


# ---------------------------------------------------------------------------------------------
# Failures: a clear message, nothing written


def _bad_archive(tmp_path, case):
    files = archives.classic_files([archives.sample()])
    manifest = json.loads(files['manifest.json'])
    if case == 'no-manifest':
        del files['manifest.json']
    elif case == 'missing-layer':
        del files[manifest[0]['Layers'][1]]
    elif case == 'traversal':
        image = archives.Img([[archives.f('../../etc/cron.d/evil', b'* * * * * root sh')]], {'Cmd': ['/x']}, ['e:1'])
        files = archives.classic_files([image])
    elif case == 'absolute':
        image = archives.Img([[archives.f('/etc/cron.d/evil', b'x')]], {'Cmd': ['/x']}, ['e:1'])
        files = archives.classic_files([image])
    elif case == 'altered-layer':
        files[manifest[0]['Layers'][0]] = archives.layer_tar([archives.f('bin/busybox', b'trojan', 0o755)])
    return archives.tar_files(tmp_path / ('%s.tar' % case), files)


@pytest.mark.parametrize('case, options, words', [
    ('no-manifest', {}, 'has no manifest.json (docker save) and no index.json (OCI image layout)'),
    ('missing-layer', {}, 'layer 2 ('),
    ('traversal', {}, 'contains ".."; a layer must not reach outside the image'),
    ('absolute', {}, "'/etc/cron.d/evil' is an absolute path"),
    ('altered-layer', {}, 'does not match its diff_id'),
    ('good', dict(tag='example.com/team/app:9'), 'tag example.com/team/app:9 is not in'),
    ('good', dict(name='Bad Name'), 'name: "Bad Name" is not an AC Identifier'),
    ('good', dict(platform='linux/amd64'), 'the image is for linux/arm64/v8, not linux/amd64'),
    ('good', dict(platform='amd64'), "platform 'amd64' is not os/arch"),
    ('good', dict(compression='xz', compression_level=10), 'compression_level 10 is not allowed for xz; use 0 to 9'),
])
def test_bad_archives_and_options_write_nothing(run_module, tmp_path, case, options, words):
    source = tmp_path / 'sources'
    source.mkdir()
    archive = _bad_archive(source, case)
    out = tmp_path / 'out'
    out.mkdir()
    dest = out / 'app.aci'
    dest.write_bytes(b'previous image')
    mtime = dest.stat().st_mtime_ns
    for check_mode in (True, False):
        result = run_module(aci_from_docker.main, args_for(archive, dest, **options), check_mode=check_mode,
                            expect_failure=True)
        assert words in result['msg'], result['msg']
    assert files_in(out) == ['app.aci'], 'no temporary or partial file may stay'
    assert dest.read_bytes() == b'previous image' and dest.stat().st_mtime_ns == mtime


@pytest.mark.parametrize('how', ['deflate', 'truncated'])
def test_a_damaged_layer_fails_naming_it(run_module, tmp_path, gzip_reader, damaged_gzip, how):
    data = b''.join(b'line %d of a layer file\n' % i for i in range(20000))
    layer = damaged_gzip(archives.layer_tar([archives.f('srv/data', data)]), how)
    files = archives.classic_files([archives.Img([layer], {'Cmd': ['/x']}, ['damaged:1'])])
    layer_path = json.loads(files['manifest.json'])[0]['Layers'][0]
    archive = archives.tar_files(tmp_path / 'damaged.tar', files)
    out = tmp_path / 'out'
    out.mkdir()
    for check_mode in (True, False):
        result = run_module(aci_from_docker.main, args_for(archive, out / 'app.aci'), check_mode=check_mode,
                            expect_failure=True)
        assert result['msg'].startswith('layer 1 (%s) is damaged or truncated: ' % layer_path), result['msg']
    assert files_in(out) == [], 'nothing may be written'


def test_missing_src_and_bad_dest(run_module, tmp_path, src):
    result = run_module(aci_from_docker.main, args_for(tmp_path / 'nope.tar', tmp_path / 'x.aci'), expect_failure=True)
    assert 'does not exist' in result['msg']
    result = run_module(aci_from_docker.main, args_for(src, tmp_path), expect_failure=True)
    assert 'is a directory' in result['msg']
    result = run_module(aci_from_docker.main, args_for(src, tmp_path / 'nodir' / 'x.aci'), expect_failure=True)
    assert 'does not exist' in result['msg']
    assert files_in(tmp_path) == ['app.tar']


def test_a_failing_write_keeps_the_previous_image(monkeypatch, run_module, tmp_path, src):
    dest = tmp_path / 'app.aci'
    run_module(aci_from_docker.main, args_for(src, dest), expect_failure=False)
    content, mtime = dest.read_bytes(), dest.stat().st_mtime_ns

    def broken(fileobj, chunks, compression, level):
        fileobj.write(b'half an image')
        raise aci.AciError('disk full')

    monkeypatch.setattr(aci, 'write_image', broken)
    result = run_module(aci_from_docker.main, args_for(src, dest, version='2'), expect_failure=True)
    assert result['msg'] == 'disk full'
    assert files_in(tmp_path) == ['app.aci', 'app.tar']
    assert dest.read_bytes() == content and dest.stat().st_mtime_ns == mtime


def test_an_unwritable_dest_directory_fails_in_check_mode_too(monkeypatch, run_module, tmp_path, src):
    out = tmp_path / 'out'
    out.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, 'access', lambda path, mode: path != str(out) and real_access(path, mode))
    result = run_module(aci_from_docker.main, args_for(src, out / 'app.aci'), check_mode=True, expect_failure=True)
    assert result['msg'] == 'Cannot write %s: directory %s is not writable by this user.' % (out / 'app.aci', out)
    assert files_in(out) == []
