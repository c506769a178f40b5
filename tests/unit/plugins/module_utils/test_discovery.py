"""appc meta discovery: page walk, prefix matching and templates, and reading back what a registry renders."""

import pytest

from ansible_collections.aci.registry.plugins.module_utils import discovery, registry_site, webroot

LABELS = dict(version='v1', os='linux', arch='amd64')
DOMAIN = 'reg.example.com'
# Every name is a string prefix of the next: the order of the tags decides which one rkt takes.
NESTED = [dict(name='%s/%s' % (DOMAIN, path), version=version, os='linux', arch=arch)
          for path, version, arch in (('app', 'v1', 'amd64'), ('app1', 'v2', 'arm64'), ('team', 'v1', 'amd64'),
                                      ('team/tool', '1.0', 'aarch64'), ('team/tool/sub', 'v3-rc.1', 'amd64'))]


def page(*tags):
    return '<html><head>%s</head></html>' % ''.join('<meta name="%s" content="%s">' % t for t in tags)


@pytest.mark.parametrize('image, expected', [
    ('host/app:v1', ('host/app', 'v1')),
    ('host/app', ('host/app', 'latest')),
    ('host:8443/app', ('host:8443/app', 'latest')),
])
def test_parse_name(image, expected):
    assert discovery.parse_name(image) == expected


def test_page_walk_goes_up_to_the_host():
    assert discovery.page_urls('host/team/tool') == [
        'https://host/team/tool?ac-discovery=1', 'https://host/team?ac-discovery=1', 'https://host?ac-discovery=1']
    assert discovery.page_urls('host/app', 8443)[0] == 'https://host:8443/app?ac-discovery=1'


def test_first_matching_template_wins_as_a_plain_prefix():
    tags = discovery.meta_tags(page(('ac-discovery', 'host/app https://host/app/{version}.{ext}'),
                                    ('ac-discovery', 'host/app1 https://host/app1/{version}.{ext}')))
    # The string prefix "host/app" matches "host/app1": the order on the page decides.
    assert discovery.match('host/app1', LABELS, tags)[0] == 'https://host/app/v1.aci'


def test_template_with_an_unknown_variable_does_not_match():
    tags = [('ac-discovery', 'host/app https://host/{channel}/{version}.{ext}'),
            ('ac-discovery', 'host/app https://host/app/{version}-{os}-{arch}.{ext}'),
            ('ac-discovery-pubkeys', 'host/app https://host/pubkeys.gpg'),
            ('ac-discovery-pubkeys', 'other/x https://other/keys.gpg')]
    aci, asc, keys = discovery.match('host/app', LABELS, tags)
    assert (aci, asc) == ('https://host/app/v1-linux-amd64.aci', 'https://host/app/v1-linux-amd64.aci.asc')
    assert keys == ['https://host/pubkeys.gpg']


def test_discover_walks_past_404s():
    pages = {'https://host?ac-discovery=1': page(('ac-discovery', 'host/team https://host/t/{version}.{ext}'))}
    found = discovery.discover('host/team/tool', LABELS, pages.get)
    assert found.aci_url == 'https://host/t/v1.aci' and found.page == 'https://host?ac-discovery=1'


def test_discover_says_what_it_asked():
    with pytest.raises(discovery.DiscoveryError) as e:
        discovery.discover('host/app', LABELS, lambda url: page())
    assert 'https://host/app?ac-discovery=1' in str(e.value) and 'version=v1' in str(e.value)


def served(port, own_pages=True):
    """``get_page`` as the server role's nginx answers, from the pages the registry renders.

    ``GET /<path>?ac-discovery=1`` is ``.discovery/<path>.html`` (404 without it) and the root is
    the catalog; ``own_pages=False`` leaves only the catalog, so the walk must go up to it.
    """
    pages = registry_site.render(DOMAIN, NESTED, port).pages
    base = webroot.base_url(DOMAIN, port)

    def get_page(url):
        assert url.startswith(base) and url.endswith('?ac-discovery=1'), url
        path = url[len(base):-len('?ac-discovery=1')].strip('/')
        relpath = webroot.discovery_relpath(path) if path else webroot.CATALOG_FILE
        if relpath != webroot.CATALOG_FILE and not own_pages:
            return None
        page = pages.get(relpath)
        return None if page is None else page.decode('utf-8')

    return get_page


@pytest.mark.parametrize('own_pages', [True, False], ids=['own page', 'catalog only'])
@pytest.mark.parametrize('port', [443, 8443])
@pytest.mark.parametrize('image', NESTED, ids=[i['name'] for i in NESTED])
def test_what_the_registry_renders_discovers_back_to_its_files(image, port, own_pages):
    labels = dict((k, image[k]) for k in ('version', 'os', 'arch'))
    found = discovery.discover(image['name'], labels, served(port, own_pages), port)
    base = webroot.base_url(DOMAIN, port)
    path = webroot.split_name(image['name'], DOMAIN)
    assert found.aci_url == '%s/%s' % (base, webroot.image_relpath(path, image['version'], image['os'], image['arch']))
    assert found.asc_url == '%s/%s' % (base, webroot.signature_relpath(path, image['version'], image['os'], image['arch']))
    assert set(found.pubkeys) == {'%s/%s' % (base, webroot.PUBKEYS_FILE)}
    assert found.page == discovery.page_urls(image['name'], port)[0 if own_pages else -1]


@pytest.mark.parametrize('port', [443, 8443])
def test_a_rendered_page_parses_back_to_its_tags(port):
    page = discovery.render_page(DOMAIN, 'team/tool', port).decode('utf-8')
    assert discovery.meta_tags(page) == discovery.tags_for(DOMAIN, 'team/tool', port)
