# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci_registry_info on a web root laid out by aci_webroot, and on the same web root over real HTTPS."""

import json

import pytest

from ansible_collections.aci.registry.plugins.module_utils import webroot
from ansible_collections.aci.registry.plugins.modules import aci_registry_info, aci_webroot
from ansible_collections.aci.registry.tests.unit.plugins.https_server import Server, make_pki

DOMAIN = 'localhost'
FINGERPRINT = '9E90CD8CA81488F286CB6683982367D1E8F76CF7'


def image(path, version, **kw):
    return dict(dict(name='%s/%s' % (DOMAIN, path), version=version), **kw)


IMAGES = [
    image('app', 'v1', published='2026-12-01T09:00:00Z', exec=['/bin/app'], size=10, unpacked_size=30,
          labels=dict(version='v1', os='linux', arch='amd64', channel='stable'), image_id='sha512-' + 'a' * 128),
    image('app', 'v2', published='2026-12-03T07:30:00Z'),
    image('app', 'v2', arch='aarch64'),
    image('app1', 'v1'),
]


def lay_out(root, port=443):
    for i in IMAGES:
        for relpath_of in (webroot.image_relpath, webroot.signature_relpath):
            path = root / relpath_of(i['name'].split('/', 1)[1], i['version'], 'linux', i.get('arch', 'amd64'))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b'x')
    (root / webroot.PUBKEYS_FILE).write_bytes(b'k')
    return dict(path=str(root), domain=DOMAIN, port=port, images=IMAGES, signer_fingerprint=FINGERPRINT)


@pytest.fixture
def root(tmp_path, run_module):
    root = tmp_path / 'www'
    root.mkdir()
    run_module(aci_webroot.main, lay_out(root), expect_failure=False)
    return root


def versions(result):
    return [(i['name'].split('/', 1)[1], i['version'], i['arch'], i['latest']) for i in result['images']]


def test_reads_the_web_root_and_changes_nothing(root, run_module):
    results = [run_module(aci_registry_info.main, dict(path=str(root), check_files=True), check_mode=check)
               for check in (True, False)]
    assert [r['changed'] for r in results] == [False, False] and results[0] == results[1]
    result = results[0]
    assert (result['domain'], result['signer_fingerprint'], result['format_version']) == (DOMAIN, FINGERPRINT, 1)
    assert result['key_url'] == 'https://localhost/pubkeys.gpg' and result['source'] == str(root / 'index.json')
    assert versions(result) == [('app', 'v2', 'aarch64', True), ('app', 'v2', 'amd64', True),
                                ('app', 'v1', 'amd64', False), ('app1', 'v1', 'amd64', True)]
    assert result['names'] == ['localhost/app', 'localhost/app1']
    v1 = result['images'][2]
    assert (v1['exec'], v1['labels']['channel'], v1['size'], v1['unpacked_size'], v1['published']) == (
        ['/bin/app'], 'stable', 10, 30, '2026-12-01T09:00:00Z')
    assert v1['image_url'] == 'https://localhost/app/v1-linux-amd64.aci'


@pytest.mark.parametrize('filters, expected', [
    (dict(name=['localhost/app1']), [('app1', 'v1', 'amd64', True)]),
    (dict(name=['localhost/app'], version='latest', arch='amd64'), [('app', 'v2', 'amd64', True)]),
    (dict(version='v1'), [('app', 'v1', 'amd64', False), ('app1', 'v1', 'amd64', True)]),
    (dict(os='freebsd'), []),
])
def test_filters(root, run_module, filters, expected):
    assert versions(run_module(aci_registry_info.main, dict(path=str(root), **filters))) == expected


def test_check_files_names_what_is_missing(root, run_module):
    (root / 'app1' / 'v1-linux-amd64.aci.asc').unlink()
    assert run_module(aci_registry_info.main, dict(path=str(root), name=['localhost/app']))['images']
    result = run_module(aci_registry_info.main, dict(path=str(root), check_files=True), expect_failure=True)
    assert result['missing'] == ['app1/v1-linux-amd64.aci.asc'] and 'Publish again' in result['msg']


@pytest.mark.parametrize('content, message', [
    (None, 'has no index.json: it is not a registry web root'),
    (b'<!DOCTYPE html>\n', 'is not JSON'),
    (b'{"name": "something else"}', 'is JSON but not an aci.registry index'),
    (json.dumps(dict(format='aci.registry/index', format_version=9, images=[])).encode(), 'format version 9'),
    (b'{"format": "aci.registry/index", "format_version": 1}', 'has no valid list of images'),
])
def test_a_missing_foreign_or_corrupt_index_fails_with_the_fix(tmp_path, run_module, content, message):
    if content is not None:
        (tmp_path / 'index.json').write_bytes(content)
    result = run_module(aci_registry_info.main, dict(path=str(tmp_path)), expect_failure=True)
    assert message in result['msg'] and 'Traceback' not in result['msg']


def test_missing_web_root(tmp_path, run_module):
    result = run_module(aci_registry_info.main, dict(path=str(tmp_path / 'nope')), expect_failure=True)
    assert 'does not exist' in result['msg']


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp('pki'))


@pytest.fixture
def served(tmp_path, pki, run_module):
    root = tmp_path / 'www'
    root.mkdir()
    server = Server(root, pki)
    run_module(aci_webroot.main, lay_out(root, server.port), expect_failure=False)
    with server.running():
        yield dict(root=root, url='https://localhost:%d' % server.port, ca=str(pki / 'ca.pem'), requests=server.requests)


def test_reads_a_registry_over_https_as_from_its_web_root(served, run_module):
    by_url = run_module(aci_registry_info.main, dict(url=served['url'] + '/', ca_path=served['ca']), check_mode=True)
    by_path = run_module(aci_registry_info.main, dict(path=str(served['root'])))
    assert by_url['changed'] is False and by_url['source'] == served['url'] + '/index.json'
    assert by_url['images'] == by_path['images'] and by_url['key_url'] == served['url'] + '/pubkeys.gpg'
    assert served['requests'] == ['/index.json']
    direct = run_module(aci_registry_info.main, dict(url=served['url'] + '/index.json', ca_path=served['ca'],
                                                     name=['localhost/app1']))
    assert versions(direct) == [('app1', 'v1', 'amd64', True)]


def test_https_refusals(served, run_module):
    untrusted = run_module(aci_registry_info.main, dict(url=served['url']), expect_failure=True)
    assert 'ca_path' in untrusted['msg'] and 'certificate' in untrusted['msg']
    plain = run_module(aci_registry_info.main, dict(url='http://localhost:1'), expect_failure=True)
    assert 'only https:// URLs' in plain['msg']
    (served['root'] / 'index.json').unlink()
    gone = run_module(aci_registry_info.main, dict(url=served['url'], ca_path=served['ca']), expect_failure=True)
    assert gone['status'] == 404 and 'publish again' in gone['msg']


def test_an_oversized_index_is_refused(served, run_module, monkeypatch):
    from ansible_collections.aci.registry.plugins.module_utils import registry_info
    monkeypatch.setattr(registry_info, 'MAX_INDEX_SIZE', 100)
    result = run_module(aci_registry_info.main, dict(url=served['url'], ca_path=served['ca']), expect_failure=True)
    assert 'is over 100 bytes: not a registry index' in result['msg']
