"""appc meta discovery: page walk, prefix matching and templates."""

import pytest

from ansible_collections.aci.registry.plugins.module_utils import discovery

LABELS = dict(version='v1', os='linux', arch='amd64')


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
