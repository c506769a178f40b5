# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The publish role's image record: defaults applied once, the upstream/docker tag default, errors."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.filter.aci_image_records import aci_image_records
from ansible_collections.aci.registry.plugins.filter.aci_layout import aci_layout
from ansible_collections.aci.registry.plugins.module_utils.image_record import RecordError, image_records

DOMAIN = 'registry.example.com'
BUILD = '/srv/build'


def records(*images, compression='gzip'):
    return image_records(list(images), DOMAIN, BUILD, compression)


def test_a_rootfs_image_gets_every_default_once():
    [record] = records({'name': 'team/tool', 'version': '1.0', 'rootfs': '/srv/tool',
                        'manifest': {'exec': ['/bin/tool']}, 'labels': {'channel': 'stable'}})
    assert record == {
        'name': 'registry.example.com/team/tool', 'path': 'team/tool', 'version': '1.0', 'os': 'linux',
        'arch': 'amd64', 'labels': {'channel': 'stable', 'version': '1.0', 'os': 'linux', 'arch': 'amd64'},
        'latest': False, 'kind': 'build',
        'source': {'src': None, 'rootfs': '/srv/tool', 'from_aci': None, 'programs': None, 'files': None},
        'manifest': {'exec': ['/bin/tool']}, 'owner_root': True, 'compression': 'gzip',
        'image': 'team/tool/1.0-linux-amd64.aci', 'signature': 'team/tool/1.0-linux-amd64.aci.asc',
        'discovery': '.discovery/team/tool.html', 'dest': '/srv/build/team/tool/1.0-linux-amd64.aci'}


def test_entry_values_win_over_the_role_defaults():
    [record] = records({'name': 'app', 'version': 'v2', 'os': 'linux', 'arch': 'aarch64', 'compression': 'xz',
                        'owner_root': False, 'latest': True, 'src': '/srv/app'}, compression='none')
    assert (record['arch'], record['compression'], record['owner_root'], record['latest']) == ('aarch64', 'xz', False, True)
    assert record['image'] == 'app/v2-linux-aarch64.aci'
    [record] = records({'name': 'app', 'version': 'v2', 'src': '/srv/app'}, compression='none')
    assert record['compression'] == 'none'


def test_an_upstream_image_takes_its_tag_and_is_built_from_where_it_is_fetched():
    [record] = records({'name': 'mirror/etcd', 'upstream': 'quay.io/coreos/etcd:v3.2.9', 'upstream_key_fingerprint': 'AB'})
    assert record['version'] == 'v3.2.9'
    assert record['kind'] == 'upstream'
    assert record['source']['from_aci'] == '/srv/build/upstream/quay.io_coreos_etcd_v3.2.9-linux-amd64.aci'
    assert record['source']['upstream_key_fingerprint'] == 'AB'


def test_a_docker_image_takes_the_tag_of_docker_tag():
    [record] = records({'name': 'hello', 'docker_archive': '/srv/hello.tar', 'docker_tag': 'example/hello:2.0'})
    assert (record['kind'], record['version']) == ('docker', '2.0')
    assert record['source'] == {'docker_archive': '/srv/hello.tar', 'docker_tag': 'example/hello:2.0'}
    # A registry port is not a tag.
    with pytest.raises(RecordError, match='no version'):
        records({'name': 'hello', 'docker_archive': '/srv/hello.tar', 'docker_tag': 'registry:5000/hello'})


def test_a_version_given_wins_over_the_tag():
    [record] = records({'name': 'etcd', 'version': '3.2.9', 'upstream': 'quay.io/coreos/etcd:v3.2.9'})
    assert record['version'] == '3.2.9'


@pytest.mark.parametrize('image, problem', [
    ({'name': 'app', 'rootfs': '/r'}, r'publish_images\[0\] \(app\): no version; give version'),
    ({'version': '1', 'rootfs': '/r'}, r'expected a dict with a name'),
    ({'name': 'app', 'version': '1'}, r'no source; give src, rootfs'),
    ({'name': 'app', 'version': '1', 'rootfs': '/r', 'upstream': 'x/y:1'}, 'give one source'),
    ({'name': 'app', 'version': '1', 'docker_archive': '/a', 'upstream': 'x/y:1'}, 'give one source'),
    ({'name': 'App', 'version': '1', 'rootfs': '/r'}, 'not an AC Identifier'),
    ({'name': 'app', 'version': '1/2', 'rootfs': '/r'}, 'cannot name a file'),
    ({'name': 'app', 'version': '1', 'rootfs': '/r', 'labels': {'os': 'freebsd'}}, 'labels.os is .freebsd.'),
])
def test_bad_entries_are_refused_naming_the_entry_and_the_fix(image, problem):
    with pytest.raises(RecordError, match=problem):
        records(image)


def test_two_entries_for_the_same_file_are_refused():
    with pytest.raises(RecordError, match=r'publish_images\[0\] and \[1\] are both registry.example.com/app 1'):
        records({'name': 'app', 'version': '1', 'rootfs': '/a'}, {'name': 'app', 'version': '1', 'src': '/b'})


def test_the_filter_fails_with_the_reason():
    with pytest.raises(AnsibleFilterError, match='aci_image_records: publish_images must be a list'):
        aci_image_records({'name': 'app'}, DOMAIN, BUILD)
    assert aci_image_records([{'name': 'a', 'version': '1', 'rootfs': '/r'}], DOMAIN, BUILD)[0]['name'] == DOMAIN + '/a'


def test_aci_layout_still_gives_the_paths_with_the_same_defaults():
    assert aci_layout({'name': 'team/tool', 'upstream': 'quay.io/x/tool:1.0'}, DOMAIN) == {
        'name': 'registry.example.com/team/tool', 'path': 'team/tool', 'version': '1.0',
        'image': 'team/tool/1.0-linux-amd64.aci', 'signature': 'team/tool/1.0-linux-amd64.aci.asc',
        'discovery': '.discovery/team/tool.html'}
    with pytest.raises(AnsibleFilterError, match='expected an image with name and version'):
        aci_layout({'name': 'x'}, DOMAIN)
