# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_image_id filter: the ID the server role compares with the host's image."""

import hashlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.tests.unit.plugins.docker_archives import archives
from ansible_collections.aci.registry.plugins.filter.docker_image_id import docker_image_id


@pytest.mark.parametrize('layout', ['classic', 'docker25'])
def test_the_id_is_the_config_digest(tmp_path, layout):
    image = archives.sample(tags=('localhost/nginx:1.26',))
    files = archives.classic_files([image]) if layout == 'classic' else archives.docker25_files([image])
    src = archives.tar_files(tmp_path / 'nginx.tar', files)
    assert docker_image_id(str(src), 'localhost/nginx:1.26') == 'sha256:' + hashlib.sha256(image.config_bytes()).hexdigest()


def test_docker_hub_spellings_are_one_name(tmp_path):
    src = archives.tar_files(tmp_path / 'nginx.tar', archives.classic_files([archives.sample(tags=('nginx:1.26',))]))
    assert docker_image_id(str(src), 'docker.io/library/nginx:1.26') == docker_image_id(str(src), 'nginx:1.26')


def test_a_tag_not_in_the_archive_names_those_that_are(tmp_path):
    src = archives.tar_files(tmp_path / 'nginx.tar', archives.classic_files([archives.sample(tags=('nginx:1.26',))]))
    with pytest.raises(AnsibleFilterError, match=r'tag nginx:1.27 is not in .*nginx\.tar; it holds: nginx:1.26'):
        docker_image_id(str(src), 'nginx:1.27')


def test_a_missing_archive_is_named(tmp_path):
    with pytest.raises(AnsibleFilterError, match='does not exist'):
        docker_image_id(str(tmp_path / 'nope.tar'), 'nginx:1.26')
