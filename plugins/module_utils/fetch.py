# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetching an image the way rkt does: discover, download, verify, and only then keep it."""

from __future__ import annotations

import os

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.aci.registry.plugins.module_utils import aci, discovery, files, gpg

_CHUNK = 1024 * 1024
# A detached armored signature or a one-key pubkeys file is a few KiB; anything far larger is not one.
_SMALL_LIMIT = 1024 * 1024
_USER_AGENT = 'aci.registry-aci_fetch'


class FetchError(Exception):
    """Anything that stops a fetch; ``details`` go into the module's failure result."""

    def __init__(self, msg, **details):
        super(FetchError, self).__init__(msg)
        self.details = details


class KeyRefused(FetchError):
    """The trusted key is one rkt cannot read: no download can make its signatures verify."""


def require_libraries(module):
    gpg.require_gnupg(module)


def apply_attributes(module, exists, changed):
    """File attributes (mode/owner/...) of the kept image, check-mode aware."""
    if not exists:
        return changed
    return files.apply_file_attributes(module, module.params['dest'], changed, default_mode=0o644)


class Fetcher(object):
    def __init__(self, module):
        self.module = module
        p = module.params
        self.name, version = discovery.parse_name(p['name'])
        self.version = p['version'] or version
        self.labels = dict(version=self.version, os=p['os'], arch=p['arch'])
        self.dest = p['dest']
        self.pin = gpg.normalize_fingerprint(p['key_fingerprint']) if p['key_fingerprint'] else None

    # -- HTTP ------------------------------------------------------------------------------------

    def _open(self, url):
        if not url.startswith('https://'):
            raise FetchError('refusing %s: discovery must lead to https:// URLs' % url, url=url)
        p = self.module.params
        try:
            # validate_certs is never False here: trust comes from the system store or ca_path.
            return open_url(url, validate_certs=True, ca_path=p['ca_path'], timeout=p['timeout'],
                            http_agent=_USER_AGENT, follow_redirects='safe')
        except HTTPError as e:
            raise FetchError('%s answered HTTP %d %s' % (url, e.code, e.reason), url=url, status=e.code)
        except URLError as e:
            raise FetchError('cannot fetch %s: %s. Check the name resolves, the registry listens on port %d '
                             'and its certificate is issued by a CA this host trusts (install it with the '
                             'aci.registry.ca_trust role, or give ca_path).' % (url, e.reason, p['port']), url=url)
        except (IOError, OSError) as e:
            raise FetchError('cannot fetch %s: %s' % (url, e), url=url)

    def get_page(self, url):
        """Discovery page text; ``None`` for a 404, which makes discovery walk up the path."""
        try:
            response = self._open(url)
        except FetchError as e:
            if e.details.get('status') == 404:
                return None
            raise
        return response.read(_SMALL_LIMIT).decode('utf-8', 'replace')

    def get_small(self, url, what):
        data = self._open(url).read(_SMALL_LIMIT + 1)
        if len(data) > _SMALL_LIMIT:
            raise FetchError('%s is over %d bytes: not a %s' % (url, _SMALL_LIMIT, what), url=url)
        return data

    def download(self, url, f):
        response = self._open(url)
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            f.write(chunk)

    # -- trust -----------------------------------------------------------------------------------

    def trusted_key(self, endpoints):
        p = self.module.params
        if p['trusted_key']:
            return p['trusted_key']
        if p['trusted_key_path']:
            key = files.read_bytes(p['trusted_key_path'])
            if key is None:
                raise FetchError('trusted_key_path %s does not exist' % p['trusted_key_path'])
            return key
        if not endpoints.pubkeys:
            raise FetchError('%s has no ac-discovery-pubkeys tag for %s: give trusted_key or trusted_key_path'
                             % (endpoints.page, self.name))
        return self.get_small(endpoints.pubkeys[0], 'public key file')

    def verify(self, key, path, signature, aci_url):
        try:
            signer = gpg.verify_detached(key, path, signature)
        except gpg.RktKeyError as e:
            raise KeyRefused('cannot verify %s the way rkt would: the trusted %s Nothing was written.'
                             % (aci_url, e), url=aci_url)
        except gpg.GpgError as e:
            raise FetchError('signature check of %s failed: %s Nothing was written.' % (aci_url, e), url=aci_url)
        if self.pin and signer != self.pin:
            raise FetchError('%s is signed by key %s, but key_fingerprint is %s. Nothing was written.'
                             % (aci_url, signer, self.pin), url=aci_url, signer=signer)
        return signer

    def check_image(self, path, aci_url):
        """The image's ``ImageInfo`` if it is a valid ACI with the asked name and labels."""
        try:
            info = aci.inspect_aci(path, validate=True)
        except (aci.AciError, aci.ManifestError) as e:
            raise FetchError('%s is not a valid ACI: %s' % (aci_url, e), url=aci_url)
        labels = dict((label.get('name'), label.get('value')) for label in info.manifest.get('labels') or [])
        wrong = []
        if info.manifest.get('name') != self.name:
            wrong.append('name %r (asked for %r)' % (info.manifest.get('name'), self.name))
        for label, wanted in sorted(self.labels.items()):
            if label == 'version' and wanted == 'latest':
                continue
            if labels.get(label) != wanted:
                wrong.append('%s label %r (asked for %r)' % (label, labels.get(label), wanted))
        if wrong:
            raise FetchError('%s is not the image asked for: its manifest has %s. Nothing was written.'
                             % (aci_url, '; '.join(wrong)), url=aci_url)
        return info

    # -- the fetch -------------------------------------------------------------------------------

    def _cached(self, key, signature, endpoints):
        """The kept image's info when the registry's current signature still verifies it."""
        if self.module.params['force'] or not os.path.isfile(self.dest):
            return None, None
        try:
            signer = self.verify(key, self.dest, signature, endpoints.aci_url)
            return signer, self.check_image(self.dest, endpoints.aci_url)
        except KeyRefused:
            raise  # downloading again would only fail the same way
        except FetchError:
            return None, None

    def run(self):
        try:
            endpoints = discovery.discover(self.name, self.labels, self.get_page, self.module.params['port'])
        except discovery.DiscoveryError as e:
            raise FetchError(str(e))
        signature = self.get_small(endpoints.asc_url, 'detached signature')
        key = self.trusted_key(endpoints)
        result = dict(changed=False, name=self.name, version=self.version, dest=self.dest,
                      aci_url=endpoints.aci_url, discovery_page=endpoints.page, downloaded=False)

        signer, info = self._cached(key, signature, endpoints)
        if info is None:
            result.update(changed=True, downloaded=not self.module.check_mode)
            if self.module.check_mode:
                return result
            verified = {}

            def download_and_verify(f):
                self.download(endpoints.aci_url, f)
                f.flush()
                verified['signer'] = self.verify(key, f.name, signature, endpoints.aci_url)
                verified['info'] = self.check_image(f.name, endpoints.aci_url)

            files.write_file(self.module, self.dest, writer=download_and_verify, default_mode=0o644)
            signer, info = verified['signer'], verified['info']

        signature_path = self.dest + '.asc'
        if files.read_bytes(signature_path) != signature:
            result['changed'] = True
            if not self.module.check_mode:
                files.write_file(self.module, signature_path, content=signature, default_mode=0o644)
        labels = dict((label.get('name'), label.get('value')) for label in info.manifest.get('labels') or [])
        result.update(signer=signer, image_id=info.image_id, version=labels.get('version', self.version),
                      manifest=info.manifest)
        return result
