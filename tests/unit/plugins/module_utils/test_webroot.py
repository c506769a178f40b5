"""Web-root layout, discovery pages and the catalog."""

import ast
import os
import re

import pytest

from ansible_collections.aci.registry.plugins.module_utils import catalog, discovery, registry_index, webroot

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
    assert 'rkt run reg.example.com/app1:v0.0.10' in page
    # The one script is the constant filter: its hash is what a Content-Security-Policy would allow.
    assert page.count('<script') == 1 and catalog.SCRIPT in page


def catalog_rows(page):
    """``(version, latest?, folded?)`` of every image row, in page order."""
    rows = []
    folded_from = page.find('<details>')
    for m in re.finditer(r'<tr class="image"[^>]*><td class="version">([^ <]+)( <span class="latest">latest</span>)?', page):
        rows.append((m.group(1), bool(m.group(2)), folded_from != -1 and m.start() > folded_from))
    return rows


def test_catalog_puts_latest_on_top_and_folds_the_others():
    images = [dict(name='reg.example.com/app', version=v, os='linux', arch='amd64') for v in ('v1.9.0', 'v1.10.0', 'v1.2')]
    page = catalog.catalog_page(DOMAIN, images).decode()
    assert catalog_rows(page) == [('v1.10.0', True, False), ('v1.9.0', False, True), ('v1.2', False, True)]
    assert '<summary>2 more versions</summary>' in page
    images[2]['latest'] = True  # a pinned alias is what the page marks
    page = catalog.catalog_page(DOMAIN, images).decode()
    assert catalog_rows(page) == [('v1.2', True, False), ('v1.10.0', False, True), ('v1.9.0', False, True)]
    assert 'rkt run reg.example.com/app:v1.2' in page


def test_catalog_shows_the_manifest_at_a_glance():
    page = catalog.catalog_page(DOMAIN, [dict(
        name='reg.example.com/app', version='v1', os='linux', arch='amd64', published='2026-12-03T07:30:00Z',
        exec=['/bin/app', '--greeting', 'hello world'], labels=dict(version='v1', os='linux', arch='amd64', channel='stable'),
        size=1024, unpacked_size=5 * 1024 * 1024, image_id='sha512-' + 'ab' * 64)]).decode()
    assert '<time datetime="2026-12-03T07:30:00Z">2026-12-03 07:30</time>' in page
    assert "<code>/bin/app --greeting &#x27;hello world&#x27;</code>" in page
    assert '<td class="labels">channel=stable</td>' in page
    assert '<td class="size">1.0 KiB</td><td class="unpacked">5.0 MiB</td>' in page
    # The whole ID, for copying; the style only shortens what the cell shows.
    assert '<td class="id"><code>sha512-%s</code></td>' % ('ab' * 64) in page
    assert '<tr class="image" data-name="reg.example.com/app" data-version="v1">' in page
    # Without JavaScript the filter box, which would do nothing, stays hidden.
    assert '<p class="filter" id="filter" hidden>' in page


def test_catalog_keeps_the_markup_molecule_registry_reads():
    """molecule/registry/tests/test_catalog.py reads these from the page Chromium renders."""
    page = catalog.catalog_page(DOMAIN, [dict(
        name='reg.example.com/app', version='v1', os='linux', arch='amd64', image_id='sha512-' + 'c' * 128, size=2048,
        unpacked_size=4096, exec=['/bin/app'], published='2026-12-03T07:30:00Z')], signer_fingerprint='F' * 40).decode()
    rows = re.findall(r'<tr class="image" data-name="([^"]+)" data-version="([^"]+)">(.*?)</tr>', page)
    assert [(name, version) for name, version, cells in rows] == [('reg.example.com/app', 'v1')]
    cells = rows[0][2]
    assert '<td class="platform">linux/amd64</td>' in cells
    assert re.search(r'<code>sha512-[0-9a-f]{128}</code>', cells)
    assert re.search(r'<td class="size">[\d.]+ (B|KiB|MiB)</td>', cells)
    assert re.search(r'<code class="fingerprint">([0-9A-F ]+)</code>', page)


def test_catalog_escapes_html():
    page = catalog.catalog_page(DOMAIN, [], title='<b>x</b>').decode()
    assert '&lt;b&gt;x&lt;/b&gt;' in page and 'No images are published yet' in page
    assert '<script' not in page


def test_a_published_time_that_is_not_iso_utc_is_refused():
    with pytest.raises(webroot.LayoutError, match='not an ISO 8601 UTC time such as 2026-12-03T07:30:00Z'):
        registry_index.render(DOMAIN, [dict(name='reg.example.com/app', version='v1', os='linux', arch='amd64',
                                            published='3 Dec 2026')])


def test_index_names_every_image_in_a_stable_order():
    images = [dict(name='reg.example.com/' + n, version=v, os='linux', arch=a, size=3, image_id='sha512-x',
                   labels=dict(channel='beta'), exec=['/bin/x'], published='2026-12-03T07:30:00Z')
              for n, v, a in (('b', 'v2', 'amd64'), ('a', 'v1', 'arm64'), ('a', 'v10', 'amd64'), ('a', 'v1', 'amd64'))]
    data = registry_index.render(DOMAIN, images, 8443, 'F' * 40)
    assert data == registry_index.render(DOMAIN, list(reversed(images)), 8443, 'F' * 40)
    doc = registry_index.parse(data, 'index.json')
    assert (doc['format'], doc['format_version'], doc['domain']) == ('aci.registry/index', 1, DOMAIN)
    assert doc['key_url'] == 'https://reg.example.com:8443/pubkeys.gpg' and doc['signer_fingerprint'] == 'F' * 40
    assert [(i['name'][-1], i['version'], i['arch'], i['latest']) for i in doc['images']] == [
        ('a', 'v10', 'amd64', True), ('a', 'v1', 'amd64', False), ('a', 'v1', 'arm64', True), ('b', 'v2', 'amd64', True)]
    first = doc['images'][0]
    assert sorted(first) == sorted(registry_index.IMAGE_KEYS)
    assert first['image_url'] == 'https://reg.example.com:8443/a/v10-linux-amd64.aci'
    assert first['signature_url'] == first['image_url'] + '.asc'
    assert (first['labels'], first['exec'], first['published'], first['unpacked_size']) == (
        {'channel': 'beta'}, ['/bin/x'], '2026-12-03T07:30:00Z', 0)


@pytest.mark.parametrize('data, message', [
    (b'<!DOCTYPE html>', 'is not JSON'),
    (b'\xff\xfe', 'is not JSON'),
    (b'{"images": []}', 'not an aci.registry index'),
    (b'[1]', 'not an aci.registry index'),
    (b'{"format": "aci.registry/index", "format_version": 2, "images": []}', 'format version 2; this collection reads version 1'),
    (b'{"format": "aci.registry/index", "format_version": 1, "images": [{"name": "x"}]}', 'no valid list of images'),
])
def test_index_parse_refuses_what_is_not_an_index(data, message):
    with pytest.raises(registry_index.IndexFormatError, match=re.escape(message)):
        registry_index.parse(data, 'https://reg.example.com/index.json')


def test_latest_is_the_natural_highest_unless_pinned():
    images = [dict(name='n', os='linux', arch='amd64', version=v) for v in ('v1.9.0', 'v1.10.0', 'v1.2')]
    assert webroot.latest_versions(images) == {('n', 'linux', 'amd64'): 'v1.10.0'}
    images[2]['latest'] = True
    assert webroot.latest_versions(images) == {('n', 'linux', 'amd64'): 'v1.2'}


def test_root_pages_are_written_after_what_they_name_and_owned(tmp_path):
    order = []
    plan = webroot.Plan({'index.json': b'{}', 'index.html': b'<p>', '.discovery/app.html': b'<p>'},
                        {'app/latest-linux-amd64.aci': 'v1-linux-amd64.aci'}, [])
    (tmp_path / 'app').mkdir()
    webroot.WebRoot(str(tmp_path)).apply(plan, lambda path, content: order.append(os.path.relpath(path, str(tmp_path))))
    assert order == ['.discovery/app.html', 'index.html', 'index.json']
    (tmp_path / 'index.json').write_text('{}')
    (tmp_path / 'robots.txt').write_text('')
    assert webroot.WebRoot(str(tmp_path)).layout_files() == ['app/latest-linux-amd64.aci', 'index.json']


# Bottom up: each file imports only files before it (webroot.py none), at the top, never in a function.
LAYERS = ['webroot', 'registry_index', 'discovery', 'catalog', 'registry_site']


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
