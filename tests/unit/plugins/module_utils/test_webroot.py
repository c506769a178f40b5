"""Web-root layout, discovery pages and the catalog."""

import ast
import os
import re

import pytest

from ansible_collections.aci.registry.plugins.module_utils import catalog, discovery, webroot

DOMAIN = 'reg.example.com'


def tags(page):
    return re.findall(r'<meta name="(ac-discovery[a-z-]*)" content="([^"]*)">', page.decode())


@pytest.mark.parametrize('name, path', [
    ('reg.example.com/app1', 'app1'),
    ('reg.example.com/team/tool', 'team/tool'),
])
def test_split_name(name, path):
    assert webroot.split_name(name, DOMAIN) == path


@pytest.mark.parametrize('name, message', [
    ('other.example.com/app', "must start with this registry's domain"),
    ('reg.example.com/', 'not an AC Identifier'),
    ('reg.example.com', "must start with this registry's domain"),
    ('reg.example.com/App', 'not an AC Identifier'),
    ('reg.example.com/../etc', 'not an AC Identifier'),
])
def test_split_name_refuses(name, message):
    with pytest.raises(webroot.LayoutError, match=re.escape(message)):
        webroot.split_name(name, DOMAIN)


@pytest.mark.parametrize('version', ['../x', '.hidden', 'a/b', ''])
def test_labels_that_cannot_name_files_are_refused(version):
    with pytest.raises(webroot.LayoutError, match='cannot name a file'):
        webroot.image_relpath('app', version, 'linux', 'amd64')


def test_paths():
    assert webroot.image_relpath('team/tool', 'v1', 'linux', 'amd64') == 'team/tool/v1-linux-amd64.aci'
    assert webroot.signature_relpath('app', 'v1', 'linux', 'arm64') == 'app/v1-linux-arm64.aci.asc'
    assert webroot.discovery_relpath('team/tool') == '.discovery/team/tool.html'


def test_discovery_page_names_exactly_one_image():
    assert tags(discovery.render_page(DOMAIN, 'app')) == [
        ('ac-discovery', 'reg.example.com/app https://reg.example.com/app/{version}-{os}-{arch}.{ext}'),
        ('ac-discovery-pubkeys', 'reg.example.com/app https://reg.example.com/pubkeys.gpg'),
    ]
    assert 'https://reg.example.com:8443/app/' in tags(discovery.render_page(DOMAIN, 'app', 8443))[0][1]


def test_catalog_lists_the_more_specific_prefix_first():
    images = [dict(name='reg.example.com/' + n, version='v1', os='linux', arch='amd64') for n in ('app', 'app1', 'team', 'team/tool')]
    prefixes = [content.split()[0] for name, content in tags(catalog.catalog_page(DOMAIN, images)) if name == 'ac-discovery']
    # appc takes the first template whose prefix matches, as a plain string.
    for request in ('reg.example.com/app1', 'reg.example.com/app', 'reg.example.com/team/tool'):
        first = next(p for p in prefixes if request.startswith(p))
        assert first == request


def test_catalog_shows_what_people_need():
    page = catalog.catalog_page(DOMAIN, [
        dict(name='reg.example.com/app1', version='v0.0.1', os='linux', arch='amd64', image_id='sha512-abc', size=2 * 1024 * 1024),
        dict(name='reg.example.com/app1', version='v0.0.10', os='linux', arch='amd64', image_id='sha512-def', size=10),
    ], signer_fingerprint='9E90CD8CA81488F286CB6683982367D1E8F76CF7').decode()
    assert 'sha512-abc' in page and '2.0 MiB' in page
    assert '9E90 CD8C A814 88F2 86CB  6683 9823 67D1 E8F7 6CF7' in page
    assert 'rkt trust --prefix=reg.example.com/app1 https://reg.example.com/pubkeys.gpg' in page
    assert 'rkt fetch reg.example.com/app1:v0.0.10' in page
    assert '<script' not in page


def test_catalog_escapes_html():
    page = catalog.catalog_page(DOMAIN, [], title='<b>x</b>').decode()
    assert '&lt;b&gt;x&lt;/b&gt;' in page and 'No images are published yet' in page


def test_latest_is_the_natural_highest_unless_pinned():
    images = [dict(name='n', os='linux', arch='amd64', version=v) for v in ('v1.9.0', 'v1.10.0', 'v1.2')]
    assert webroot.latest_versions(images) == {('n', 'linux', 'amd64'): 'v1.10.0'}
    images[2]['latest'] = True
    assert webroot.latest_versions(images) == {('n', 'linux', 'amd64'): 'v1.2'}


# Bottom up: each file imports only files before it (webroot.py none), at the top, never in a function.
LAYERS = ['webroot', 'discovery', 'catalog', 'registry_site']


@pytest.mark.parametrize('name', LAYERS)
def test_layering(name):
    with open(os.path.join(os.path.dirname(webroot.__file__), name + '.py')) as f:
        tree = ast.parse(f.read())
    siblings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == 'ansible_collections.aci.registry.plugins.module_utils':
            siblings.update(alias.name for alias in node.names)
            assert node in tree.body, '%s.py imports %s inside a function' % (name, siblings)
    below = LAYERS[:LAYERS.index(name)]
    assert not (siblings & set(LAYERS)) - set(below), '%s.py may only import %s' % (name, below)
