# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci_webroot_names, and the server role's nginx.conf.j2 rendered with it: the names nginx serves are the
ones the modules lay out, and the template spells none of them itself."""

import os
import re

import jinja2
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.aci.registry.plugins.filter.aci_webroot_names import aci_webroot_names
from ansible_collections.aci.registry.plugins.module_utils import webroot

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'server')
TEMPLATE = os.path.join(ROLE, 'templates', 'nginx.conf.j2')


def test_names_are_webroot_constants():
    names = aci_webroot_names()
    assert (names['pubkeys_file'], names['discovery_dir'], names['catalog_file'], names['index_file']) == (
        webroot.PUBKEYS_FILE, webroot.DISCOVERY_DIR, webroot.CATALOG_FILE, webroot.INDEX_FILE)
    assert (names['image_ext'], names['signature_ext'], names['latest']) == (
        webroot.IMAGE_EXT, webroot.SIGNATURE_EXT, webroot.LATEST_VERSION)
    paths = aci_webroot_names('/srv/www')
    assert (paths['index_path'], paths['discovery_path']) == ('/srv/www/index.json', '/srv/www/.discovery')


def test_a_relative_root_is_refused():
    with pytest.raises(AnsibleFilterError, match='absolute path of the web root'):
        aci_webroot_names('srv/www')


@pytest.fixture(scope='module')
def config():
    """nginx.conf.j2 as the template module renders it (trim_blocks), with the role's defaults."""
    with open(os.path.join(ROLE, 'defaults', 'main.yml')) as f:
        variables = yaml.safe_load(f)
    variables.update(server_domain='registry.example.com', ansible_managed='managed', __server_rotated=True,
                     __server_conf_command=True)
    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters['aci.registry.aci_webroot_names'] = aci_webroot_names
    with open(TEMPLATE) as f:
        return env.from_string(f.read()).render(**variables)


def test_nginx_serves_every_file_of_the_layout_with_its_type(config):
    types = dict((ext, content_type) for content_type, ext in
                 re.findall(r'^\s+(\S+/\S+)\s+(\w+);$', config.split('types {')[1].split('}')[0], re.M))
    assert types == webroot.CONTENT_TYPES
    for relpath in (webroot.CATALOG_FILE, webroot.INDEX_FILE, webroot.PUBKEYS_FILE,
                    webroot.image_relpath('app', 'v1', 'linux', 'amd64'), webroot.signature_relpath('app', 'v1', 'linux', 'amd64')):
        assert relpath.rsplit('.', 1)[1] in types, relpath
    assert types[webroot.INDEX_FILE.rsplit('.', 1)[1]] == 'application/json'


def test_nginx_locations_are_the_layouts(config):
    assert 'try_files /%s =404;' % webroot.CATALOG_FILE in config
    assert 'location ^~ /%s/ {' % webroot.DISCOVERY_DIR in config
    # The rewrite of ?ac-discovery=1 lands where discovery_relpath puts the page.
    rewrite = re.search(r'rewrite \^/\(\.\+\?\)/\*\$ (\S+) last;', config).group(1)
    assert rewrite.replace('$1', 'team/tool') == '/' + webroot.discovery_relpath('team/tool')
    latest = re.compile(re.search(r'location ~ (\S+) \{\n\s+open_file_cache off;', config).group(1))
    for relpath_of in (webroot.image_relpath, webroot.signature_relpath):
        assert latest.search('/' + relpath_of('team/tool', webroot.LATEST_VERSION, 'linux', 'amd64'))
        assert not latest.search('/' + relpath_of('team/tool', 'v1', 'linux', 'amd64'))


def test_the_template_spells_no_name_of_the_layout():
    with open(TEMPLATE) as f:
        source = f.read()
    for literal in ('.discovery', 'index.html', 'index.json', 'latest-', '.aci', 'pubkeys.gpg'):
        # Not in "__names.discovery_dir", nor ".aci" in "aci.registry.aci_webroot_names".
        end = r'\b' if literal[-1].isalnum() else ''
        assert not re.search(r'(?<!__names)%s%s' % (re.escape(literal), end), source), literal
