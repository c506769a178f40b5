"""aci_webroot on a real directory: converge, idempotence, check mode, prune, refusals."""

import json
import os

import pytest

from ansible_collections.aci.registry.plugins.modules import aci_webroot

DOMAIN = 'reg.example.com'


def publish_files(root, *relpaths):
    for relpath in ('pubkeys.gpg',) + relpaths:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'x')


def image(path, version, **kw):
    return dict(dict(name='%s/%s' % (DOMAIN, path), version=version), **kw)


@pytest.fixture
def root(tmp_path):
    publish_files(tmp_path, 'app/v1-linux-amd64.aci', 'app/v1-linux-amd64.aci.asc',
                  'app1/v2-linux-amd64.aci', 'app1/v2-linux-amd64.aci.asc',
                  'team/tool/v1-linux-amd64.aci', 'team/tool/v1-linux-amd64.aci.asc')
    (tmp_path / 'robots.txt').write_text('not ours')
    return tmp_path


def args(root, images, **kw):
    return dict(dict(path=str(root), domain=DOMAIN, images=images), **kw)


IMAGES = [image('app', 'v1'), image('app1', 'v2'), image('team/tool', 'v1')]


def test_four_calls(root, run_module):
    results = [run_module(aci_webroot.main, args(root, IMAGES), check_mode=check) for check in (True, False, True, False)]
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert results[0]['written'] == results[1]['written']
    assert (root / '.discovery/team/tool.html').is_file()
    assert os.readlink(str(root / 'app1/latest-linux-amd64.aci')) == 'v2-linux-amd64.aci'
    assert os.readlink(str(root / 'app1/latest-linux-amd64.aci.asc')) == 'v2-linux-amd64.aci.asc'
    assert oct((root / 'index.html').stat().st_mode & 0o777) == '0o644'


def test_check_mode_writes_nothing(root, run_module):
    before = sorted(os.listdir(str(root)))
    run_module(aci_webroot.main, args(root, IMAGES), check_mode=True)
    assert sorted(os.listdir(str(root))) == before


def test_prune_removes_unlisted_images_and_keeps_foreign_files(root, run_module):
    run_module(aci_webroot.main, args(root, IMAGES))
    result = run_module(aci_webroot.main, args(root, IMAGES[:1]))
    assert result['changed']
    assert set(result['removed']) == {
        '.discovery/app1.html', '.discovery/team/tool.html',
        'app1/latest-linux-amd64.aci', 'app1/latest-linux-amd64.aci.asc',
        'app1/v2-linux-amd64.aci', 'app1/v2-linux-amd64.aci.asc',
        'team/tool/latest-linux-amd64.aci', 'team/tool/latest-linux-amd64.aci.asc',
        'team/tool/v1-linux-amd64.aci', 'team/tool/v1-linux-amd64.aci.asc'}
    assert not (root / 'team').exists() and not (root / 'app1').exists()
    assert (root / 'robots.txt').read_text() == 'not ours'
    assert b'app1' not in (root / 'index.html').read_bytes()


def test_no_prune_keeps_unlisted(root, run_module):
    run_module(aci_webroot.main, args(root, IMAGES))
    result = run_module(aci_webroot.main, args(root, IMAGES[:1], prune=False))
    assert result['removed'] == [] and (root / 'app1/v2-linux-amd64.aci').exists()


def test_refuses_pages_for_missing_files(root, run_module):
    result = run_module(aci_webroot.main, args(root, IMAGES + [image('ghost', 'v1')]), expect_failure=True)
    assert 'ghost/v1-linux-amd64.aci' in result['msg'] and 'Copy the images' in result['msg']
    assert not (root / 'index.html').exists()


@pytest.mark.parametrize('bad, message', [
    (image('app', 'latest'), 'alias this registry maintains'),
    (dict(name='elsewhere.org/app', version='v1'), "must start with this registry's domain"),
    (image('app', '../../etc'), 'cannot name a file'),
])
def test_bad_images_are_refused_before_writing(root, run_module, bad, message):
    result = run_module(aci_webroot.main, args(root, [bad]), expect_failure=True)
    assert message in result['msg']
    assert not (root / 'index.html').exists()


def test_missing_webroot(tmp_path, run_module):
    result = run_module(aci_webroot.main, args(tmp_path / 'nope', []), expect_failure=True)
    assert 'does not exist' in result['msg']


def test_empty_registry_gets_a_catalog(tmp_path, run_module):
    (tmp_path / 'pubkeys.gpg').write_bytes(b'k')
    result = run_module(aci_webroot.main, args(tmp_path, []))
    assert result['written'] == ['index.html', 'index.json']
    assert json.loads((tmp_path / 'index.json').read_text())['images'] == []


def test_index_json_lists_the_images_and_is_not_rewritten(root, run_module):
    run_module(aci_webroot.main, args(root, IMAGES))
    index = json.loads((root / 'index.json').read_text())
    assert [i['name'] for i in index['images']] == [DOMAIN + '/app', DOMAIN + '/app1', DOMAIN + '/team/tool']
    before = (root / 'index.json').stat().st_mtime_ns
    assert not run_module(aci_webroot.main, args(root, IMAGES))['changed']
    assert (root / 'index.json').stat().st_mtime_ns == before


def test_bad_published_is_refused_before_writing(root, run_module):
    result = run_module(aci_webroot.main, args(root, [image('app', 'v1', published='yesterday')]), expect_failure=True)
    assert 'not an ISO 8601 UTC time' in result['msg'] and not (root / 'index.json').exists()


def test_takes_the_images_aci_image_set_returns(root, run_module):
    described = [image('app', 'v1', latest=False, image_id='sha512-' + '0' * 128, size=358, published='2026-12-03T07:30:00Z',
                       exec=['/bin/hello'], labels={'version': 'v1', 'os': 'linux', 'arch': 'amd64'}, unpacked_size=4096)]
    first = run_module(aci_webroot.main, args(root, described), expect_failure=False)
    assert first['changed']
    assert not run_module(aci_webroot.main, args(root, described), expect_failure=False)['changed']
