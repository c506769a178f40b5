# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET over HTTPS the way this collection's clients do it (aci_fetch, aci_registry_info).

The certificate is always verified (the system store, or ``ca_path``), a redirect is followed only
to another ``https://`` URL, and every body is read with a limit, so a wrong URL cannot make a
module download gigabytes into memory. Every failure is an ``HttpsError`` whose message says
what to check.
"""

from __future__ import annotations

from urllib.error import HTTPError, URLError

from ansible.module_utils.common.text.formatters import human_to_bytes
from ansible.module_utils.urls import open_url

from ansible_collections.aci.registry.plugins.module_utils import converge


def argument_spec():
    """The options of a module that reads over HTTPS (doc fragment ``aci.registry.https_client``)."""
    return dict(ca_path=dict(type='path'), timeout=dict(type='int', default=30))


_CHUNK = 1024 * 1024


class HttpsError(converge.ModuleError):
    """A request that did not give a body; ``details`` carry the ``url`` (and the HTTP ``status``)."""


def parse_max_size(given):
    """Bytes from a ``max_size`` option (bytes, or a size with a unit such as 512M)."""
    try:
        size = human_to_bytes(given)
    except ValueError as e:
        raise HttpsError('max_size %r is not a size: %s. Give bytes or a size with a unit, such as 512M or 4G.'
                         % (given, e))
    if size <= 0:
        raise HttpsError('max_size must be more than 0 bytes (it is %r).' % given)
    return size


def read_body(response, url, size, timeout):
    """Up to ``size`` bytes of ``response``; a timeout or a reset while it arrives is an ``HttpsError``.

    Also for responses of other connections than a Client's (aci_replica_sync reads a peer directly)."""
    try:
        return response.read(size)
    except OSError as e:
        raise HttpsError('%s stopped sending: %s (timeout is %d seconds). Nothing was written.'
                         % (url, str(e) or type(e).__name__, timeout), url=url)


def copy_body(response, url, f, max_size, timeout, limit='max_size'):
    """Stream ``response`` into ``f``, stopping as soon as it is larger than ``max_size``; returns the size.

    ``limit`` names where ``max_size`` comes from, for the message.
    """
    size = 0
    while True:
        chunk = read_body(response, url, _CHUNK, timeout)
        if not chunk:
            return size
        size += len(chunk)
        if size > max_size:
            response.close()
            raise HttpsError('%s is larger than %s (%d bytes); stopped after %d bytes and wrote nothing.%s'
                             % (url, limit, max_size, size,
                                ' Raise max_size if the image really is that large.' if limit == 'max_size' else ''),
                             url=url)
        f.write(chunk)


class Client:
    """HTTPS GETs with one trust setting, timeout and user agent."""

    def __init__(self, ca_path=None, timeout=30, port=443, agent='aci.registry'):
        self.ca_path = ca_path
        self.timeout = timeout
        self.port = port
        self.agent = agent

    def open(self, url):
        """The response of ``GET url``; refuses anything that is not, or redirects to something not, https://."""
        if not url.startswith('https://'):
            raise HttpsError('refusing %s: only https:// URLs are fetched' % url, url=url)
        try:
            # validate_certs is never False here: trust comes from the system store or ca_path.
            response = open_url(url, validate_certs=True, ca_path=self.ca_path, timeout=self.timeout,
                                http_agent=self.agent, follow_redirects='safe')
        except HTTPError as e:
            raise HttpsError('%s answered HTTP %d %s' % (url, e.code, e.reason), url=url, status=e.code)
        except URLError as e:
            raise HttpsError('cannot fetch %s: %s. Check the name resolves, the registry listens on port %d '
                             'and its certificate is issued by a CA this host trusts (install it with the '
                             'aci.registry.ca_trust role, or give ca_path).' % (url, e.reason, self.port), url=url)
        except OSError as e:
            raise HttpsError('cannot fetch %s: %s' % (url, e), url=url)
        # A redirect is followed to any https:// URL, as rkt follows it (signatures, not hosts, are
        # what is trusted), but never down to plain http://.
        final = response.geturl()
        if not final.startswith('https://'):
            response.close()
            raise HttpsError('refusing %s: it redirects to %s, which is not https://' % (url, final), url=url)
        return response

    def read(self, response, url, size):
        """Up to ``size`` bytes of the body; a timeout or reset mid-body is an ``HttpsError``."""
        return read_body(response, url, size, self.timeout)

    def get(self, url, limit, what):
        """The whole body of ``url``, refused when it is over ``limit`` bytes (then it is not ``what``)."""
        response = self.open(url)
        try:
            data = self.read(response, url, limit + 1)
        finally:
            response.close()
        if len(data) > limit:
            raise HttpsError('%s is over %d bytes: not a %s' % (url, limit, what), url=url)
        return data
