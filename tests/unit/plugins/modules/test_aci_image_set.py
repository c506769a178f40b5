# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci.registry.aci_image_set: a set of images built and signed in one run, with the real gpg."""

import os
import re
import shutil
import tempfile

import pytest

from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.plugins.module_utils.image_record import image_records
from ansible_collections.aci.registry.plugins.modules import aci_image_set
from ansible_collections.aci.registry.tests.unit.plugins.gpg_homes import kill_agent, new_home

pytestmark = pytest.mark.skipif(not (shutil.which('gpg') and g.HAS_GNUPG), reason='needs gpg and python-gnupg')

DOMAIN = 'registry.example.com'


@pytest.fixture(scope='module')
def key():
    root = tempfile.mkdtemp(prefix='is', dir='/tmp')
    home = new_home(root, 'h')
    gpg = g.open_home(home)
    fingerprint = g.generate_key(gpg, 'Set signer', algorithm='rsa2048')
    yield dict(home=home, fingerprint=fingerprint, public=g.export_public_key(gpg, fingerprint))
    kill_agent(home)
    shutil.rmtree(root, ignore_errors=True)


def rootfs(tmp_path, name, text):
    tree = tmp_path / 'trees' / name
    (tree / 'bin').mkdir(parents=True, exist_ok=True)
    (tree / 'bin' / 'hello').write_text('#!/bin/sh\necho %s\n' % text)
    os.chmod(tree / 'bin' / 'hello', 0o755)
    return str(tree)


@pytest.fixture
def entries(tmp_path):
    return [{'name': 'app', 'version': 'v%d' % n, 'rootfs': rootfs(tmp_path, 'app%d' % n, 'app %d' % n),
             'manifest': {'exec': ['/bin/hello'], 'user': '0', 'group': '0'}, 'labels': {'team': 'a'}}
            for n in range(3)]


@pytest.fixture
def publish(run_module, key, tmp_path):
    build = str(tmp_path / 'build')

    def run(images, check_mode=False, **kwargs):
        records = image_records(images, DOMAIN, build)
        return run_module(aci_image_set.main, dict(images=records, gnupghome=key['home'],
                                                   fingerprint=key['fingerprint']), check_mode=check_mode, **kwargs)

    run.build = build
    return run


def verifies(key, build, relpath):
    with open(os.path.join(build, relpath + '.asc'), 'rb') as f:
        return g.verify_detached(key['public'], os.path.join(build, relpath), f.read()) == key['fingerprint']


def changed_images(result):
    return [(c['image'], c['built'], c['signed']) for c in result['changes'] if c['changed']]


def test_builds_and_signs_every_image_then_a_rerun_changes_nothing(publish, entries, key, warnings):
    first = publish(entries, expect_failure=False)
    assert first['changed']
    assert changed_images(first) == [('app/v%d-linux-amd64.aci' % n, ['missing'], ['missing']) for n in range(3)]
    for n in range(3):
        assert verifies(key, publish.build, 'app/v%d-linux-amd64.aci' % n)
    image = first['images'][0]
    assert sorted(image) == sorted(['name', 'version', 'os', 'arch', 'latest', 'image_id', 'size', 'published',
                                    'exec', 'labels', 'unpacked_size'])
    assert image['name'] == DOMAIN + '/app' and image['version'] == 'v0' and image['latest'] is False
    assert re.match(r'^sha512-[0-9a-f]{128}$', image['image_id'])
    assert image['size'] == os.path.getsize(os.path.join(publish.build, 'app/v0-linux-amd64.aci'))
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', image['published'])
    assert image['exec'] == ['/bin/hello']
    assert image['labels'] == {'team': 'a', 'version': 'v0', 'os': 'linux', 'arch': 'amd64'}
    assert image['unpacked_size'] > image['size'] > 0

    assert not [w for w in warnings if 'written again' in w]
    again = publish(entries, expect_failure=False)
    assert not again['changed']
    assert changed_images(again) == []
    # The same figures, the ID from the identity record, the time of the last write.
    assert again['images'] == first['images']


def test_only_the_changed_image_is_rebuilt_and_resigned(publish, entries, tmp_path, warnings):
    first = publish(entries, expect_failure=False)
    os.utime(os.path.join(publish.build, 'app/v1-linux-amd64.aci'), (0, 0))  # an mtime that tells a rewrite
    rootfs(tmp_path, 'app1', 'app 1, now different')
    result = publish(entries, expect_failure=False)
    assert changed_images(result) == [('app/v1-linux-amd64.aci', ['content'], ['does not verify the file with the key'])]
    # A served version with new bytes can tear for a client fetching it meanwhile: the user is told.
    rebuilt = [w for w in warnings if 'written again with other bytes' in w]
    assert len(rebuilt) == 1 and rebuilt[0].startswith('%s/app:v1 (linux/amd64)' % DOMAIN), warnings
    assert 'new version' in rebuilt[0]
    assert result['images'][0] == first['images'][0]
    assert result['images'][1]['image_id'] != first['images'][1]['image_id']
    assert result['images'][1]['published'] != '1970-01-01T00:00:00Z'


def test_check_mode_reports_what_would_change_and_writes_nothing(publish, entries, tmp_path):
    check_first = publish(entries, check_mode=True, expect_failure=False)
    assert check_first['changed'] and not os.path.exists(publish.build + '/app')
    assert changed_images(check_first)[0] == ('app/v0-linux-amd64.aci', ['missing'], ['the image changes'])
    publish(entries, expect_failure=False)
    image = os.path.join(publish.build, 'app/v2-linux-amd64.aci')
    before = open(image, 'rb').read(), open(image + '.asc', 'rb').read(), os.stat(image).st_mtime
    rootfs(tmp_path, 'app2', 'app 2, changed')
    check = publish(entries, check_mode=True, expect_failure=False)
    assert changed_images(check) == [('app/v2-linux-amd64.aci', ['content'], ['the image changes'])]
    assert (open(image, 'rb').read(), open(image + '.asc', 'rb').read(), os.stat(image).st_mtime) == before
    # Check mode reads the whole tree: the ID the run will give.
    real = publish(entries, expect_failure=False)
    assert real['images'][2]['image_id'] == check['images'][2]['image_id']
    assert not publish(entries, check_mode=True, expect_failure=False)['changed']


def test_a_signature_that_no_longer_verifies_is_made_again(publish, entries, key):
    publish(entries, expect_failure=False)
    asc = os.path.join(publish.build, 'app/v0-linux-amd64.aci.asc')
    shutil.copy(os.path.join(publish.build, 'app/v1-linux-amd64.aci.asc'), asc)  # a good signature of another file
    result = publish(entries, expect_failure=False)
    assert changed_images(result) == [('app/v0-linux-amd64.aci', [], ['does not verify the file with the key'])]
    assert verifies(key, publish.build, 'app/v0-linux-amd64.aci')


def test_bad_input_names_every_bad_image_and_writes_nothing(publish, entries, tmp_path):
    entries[1]['rootfs'] = str(tmp_path / 'no-such-tree')
    entries[2]['manifest'] = {'exec': ['/bin/hello'], 'user': '0', 'group': '0', 'ports': [{'name': 'http', 'port': 70000}]}
    result = publish(entries, expect_failure=True)
    assert result['msg'].startswith('2 image(s) failed')
    assert [f.split(':', 2)[:2] for f in result['failures']] == [
        ['registry.example.com/app', 'v1 (linux/amd64)'], ['registry.example.com/app', 'v2 (linux/amd64)']]
    assert 'no-such-tree' in result['failures'][0] and 'app.ports[0]' in result['failures'][1]
    assert not os.path.exists(publish.build + '/app')


def test_an_option_aci_build_refuses_is_refused_before_anything_is_built(publish, entries):
    entries[0]['manifest'] = {'exec': ['/bin/hello'], 'ports': [{'name': 'http'}]}
    result = publish(entries, expect_failure=True)
    assert 'registry.example.com/app:v0 (linux/amd64)' in result['msg'] and 'port' in result['msg']
    assert 'nothing was written' in result['msg']
    assert not os.path.exists(publish.build + '/app')


def test_a_wrong_fingerprint_fails_before_anything_is_built(run_module, key, entries, tmp_path):
    records = image_records(entries, DOMAIN, str(tmp_path / 'build'))
    result = run_module(aci_image_set.main, dict(images=records, gnupghome=key['home'], fingerprint='AB' * 20),
                        expect_failure=True)
    assert 'Unknown key' in result['msg']
    assert not os.path.exists(str(tmp_path / 'build'))


def test_records_not_made_by_the_filter_are_refused(run_module, key):
    result = run_module(aci_image_set.main, dict(images=[{'name': 'x'}], gnupghome=key['home'],
                                                 fingerprint=key['fingerprint']), expect_failure=True)
    assert 'not a record of the aci.registry.aci_image_records filter' in result['msg']


def test_a_docker_archive_is_converted_in_the_same_run(publish, entries, tmp_path, key):
    from ansible_collections.aci.registry.tests.unit.plugins.docker_archives import archives
    archive = archives.tar_files(tmp_path / 'app.tar', archives.classic_files([archives.sample()]))
    # The sample is an arm64/v8 image: os/arch must match its platform.
    docker = {'name': 'mirror/app', 'docker_archive': str(archive), 'docker_tag': 'example.com/team/app:1.2.3',
              'arch': 'aarch64'}
    first = publish(entries + [docker], expect_failure=False)
    assert changed_images(first)[-1] == ('mirror/app/1.2.3-linux-aarch64.aci', ['missing'], ['missing'])
    assert first['images'][-1]['labels']['version'] == '1.2.3'
    assert verifies(key, publish.build, 'mirror/app/1.2.3-linux-aarch64.aci')
    assert not publish(entries + [docker], expect_failure=False)['changed']


def test_a_failure_of_a_single_image_helper_fails_that_image_only():
    from ansible_collections.aci.registry.plugins.module_utils import converge, image_set
    view = image_set.ImageModule(object(), {'dest': '/x'})
    with pytest.raises(converge.ModuleError, match='Cannot write /x'):
        view.fail_json(msg='Cannot write /x: directory / is not writable by this user.')
