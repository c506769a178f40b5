# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""appc meta discovery, as rkt does it: from an image name and labels to the URLs of the image,
its signature and the signing keys.

For ``host/a/b`` the pages ``https://host/a/b?ac-discovery=1``, ``https://host/a?ac-discovery=1``
and ``https://host?ac-discovery=1`` are asked in turn; on each page the first ``ac-discovery``
tag whose prefix the name starts with (as a plain string) and whose template can be filled with
the labels wins. Fetching pages is left to a callable, so this module does no I/O of its own.
"""

from __future__ import annotations

import re

try:
    from html.parser import HTMLParser
except ImportError:  # pragma: no cover - Python 2 is not supported by this collection
    HTMLParser = object

_TEMPLATE_VAR = re.compile(r'\{([^{}]+)\}')


class DiscoveryError(Exception):
    """Discovery found nothing usable; the message says what was asked and where."""


class _MetaTags(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        if tag == 'meta':
            attrs = dict(attrs)
            if attrs.get('name') in ('ac-discovery', 'ac-discovery-pubkeys') and attrs.get('content'):
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
    authority = host if int(port) == 443 else '%s:%d' % (host, int(port))
    parts = path.split('/') if path else []
    urls = []
    for depth in range(len(parts), -1, -1):
        suffix = '/'.join(parts[:depth])
        urls.append('https://%s/%s?ac-discovery=1' % (authority, suffix) if suffix
                    else 'https://%s?ac-discovery=1' % authority)
    return urls


def fill_template(template, values):
    """Substitute ``{var}``s; ``None`` when the template names a value that was not given."""
    names = _TEMPLATE_VAR.findall(template)
    if any(n not in values for n in names):
        return None
    return _TEMPLATE_VAR.sub(lambda m: values[m.group(1)], template)


class Endpoints(object):
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
        if tag == 'ac-discovery-pubkeys':
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
