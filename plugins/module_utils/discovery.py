"""How appc meta discovery looks on the wire: the tags and pages a registry serves, and rkt's walk
that reads them back into the URLs of an image, its signature and the signing keys.

Rendering: a page answering ``GET /<path>?ac-discovery=1`` carries, for the name ``<domain>/<path>``,
an ``ac-discovery`` tag (the name as prefix, then the URL template of its files) and an
``ac-discovery-pubkeys`` tag (the name, then the key's URL). The names, paths and URLs come from
``webroot.py``; ``catalog.py`` puts the tags of every name in the head of the catalog page.

Parsing, as rkt does it: for ``host/a/b`` the pages ``https://host/a/b?ac-discovery=1``,
``https://host/a?ac-discovery=1`` and ``https://host?ac-discovery=1`` are asked in turn; on each
page the first ``ac-discovery`` tag whose prefix the name starts with (as a plain string) and whose
template can be filled with the labels wins. Fetching pages is left to a callable, so this module
does no I/O of its own.

Layering: ``webroot`` <- this module <- ``catalog`` <- ``registry_site`` (and ``fetch``).
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

from ansible_collections.aci.registry.plugins.module_utils import webroot

DISCOVERY_TAG = 'ac-discovery'
PUBKEYS_TAG = 'ac-discovery-pubkeys'

_TEMPLATE_VAR = re.compile(r'\{([^{}]+)\}')


def tags_for(domain, path, port=443):
    """The ``(name, content)`` pairs of the meta tags that make ``domain/path`` discoverable."""
    url = webroot.base_url(domain, port)
    prefix = webroot.full_name(domain, path)
    return [
        (DISCOVERY_TAG, '%s %s/%s/%s' % (prefix, url, path, webroot.FILE_TEMPLATE)),
        (PUBKEYS_TAG, '%s %s/%s' % (prefix, url, webroot.PUBKEYS_FILE)),
    ]


def most_specific_first(paths):
    """Most specific names first.

    appc matches a tag's prefix as a plain string and rkt takes the first template that matches,
    so on a page listing several names, ``app1`` must come before ``app`` (and ``team/tool``
    before ``team``), or a request for ``app1`` would be answered with ``app``'s files.
    """
    return sorted(set(paths), key=lambda p: (-len(p), p))


def render_tags(domain, paths, port=443):
    """The ``<meta>`` lines of the names ``paths``, most specific first, indented for a ``<head>``."""
    lines = []
    for path in most_specific_first(paths):
        for name, content in tags_for(domain, path, port):
            lines.append('    <meta name="%s" content="%s">' % (name, escape(content)))
    return '\n'.join(lines)


def render_page(domain, path, port=443):
    """The page answering ``GET /<path>?ac-discovery=1``: tags for exactly this one name."""
    name = webroot.full_name(domain, path)
    return (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset="utf-8">\n'
        '    <title>%s</title>\n%s\n  </head>\n  <body></body>\n</html>\n'
        % (escape(name), render_tags(domain, [path], port))
    ).encode('utf-8')


class DiscoveryError(Exception):
    """Discovery found nothing usable; the message says what was asked and where."""


class _MetaTags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        if tag == 'meta':
            attrs = dict(attrs)
            if attrs.get('name') in (DISCOVERY_TAG, PUBKEYS_TAG) and attrs.get('content'):
                self.tags.append((attrs['name'], attrs['content']))


def meta_tags(html):
    """``[(name, content), ...]`` of the appc meta tags of a page, in page order."""
    parser = _MetaTags()
    parser.feed(html)
    parser.close()
    return parser.tags


def parse_name(image):
    """``host/app:v1`` → ``('host/app', 'v1')``; no version means ``latest``, as in rkt."""
    name, sep, version = image.rpartition(':')
    if not sep or '/' in version:
        return image, 'latest'
    return name, version


def page_urls(name, port=443):
    """The discovery URLs asked for ``name``, most specific first."""
    host, _sep, path = name.partition('/')
    base = webroot.base_url(host, port)
    parts = path.split('/') if path else []
    urls = []
    for depth in range(len(parts), -1, -1):
        suffix = '/'.join(parts[:depth])
        urls.append('%s/%s?ac-discovery=1' % (base, suffix) if suffix else '%s?ac-discovery=1' % base)
    return urls


def fill_template(template, values):
    """Substitute ``{var}``s; ``None`` when the template names a value that was not given."""
    names = _TEMPLATE_VAR.findall(template)
    if any(n not in values for n in names):
        return None
    return _TEMPLATE_VAR.sub(lambda m: values[m.group(1)], template)


class Endpoints:
    """What discovery found: ``aci_url``, ``asc_url``, ``pubkeys`` (URLs) and the ``page`` used."""

    def __init__(self, aci_url, asc_url, pubkeys, page):
        self.aci_url = aci_url
        self.asc_url = asc_url
        self.pubkeys = pubkeys
        self.page = page


def match(name, labels, tags):
    """From one page's tags: ``(aci_url, asc_url, pubkey_urls)`` or ``None`` if no template fits."""
    values = dict(labels, name=name)
    found = None
    pubkeys = []
    for tag, content in tags:
        prefix, _sep, template = content.partition(' ')
        template = template.strip()
        if not template or not name.startswith(prefix):
            continue
        if tag == PUBKEYS_TAG:
            pubkeys.append(template)
        elif found is None:
            aci = fill_template(template, dict(values, ext='aci'))
            if aci is not None:
                found = (aci, fill_template(template, dict(values, ext='aci.asc')))
    if found is None:
        return None
    return found[0], found[1], pubkeys


def discover(name, labels, get_page, port=443):
    """Walk the discovery pages of ``name`` until one has a template the ``labels`` fill.

    ``get_page(url)`` returns the page's text, or ``None`` when the server answered 404 (the walk
    then goes on upwards); any other failure is the caller's to raise.
    """
    asked = []
    for url in page_urls(name, port):
        asked.append(url)
        html = get_page(url)
        if html is None:
            continue
        found = match(name, labels, meta_tags(html))
        if found:
            return Endpoints(found[0], found[1], found[2], url)
    raise DiscoveryError('no ac-discovery template for %s with %s on any of: %s' % (
        name, ', '.join('%s=%s' % kv for kv in sorted(labels.items())), ', '.join(asked)))
