# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetching an image the way rkt does: discover, download, verify, and only then keep it.

``FetchedImage`` is the converge resource of aci_fetch: the image at ``dest`` and its signature
beside it, as the registry serves and signs them now.
"""

from __future__ import annotations

import os


from ansible_collections.aci.registry.plugins.module_utils import aci, converge, discovery, files, gpg, https

# A detached armored signature or a one-key pubkeys file is a few KiB; anything far larger is not one.
_SMALL_LIMIT = 1024 * 1024
_USER_AGENT = 'aci.registry-aci_fetch'
DEFAULT_MODE = 0o644


class FetchError(converge.ModuleError):
    """Anything that stops a fetch; ``details`` go into the module's failure result."""


class KeyRefused(FetchError):
    """The trusted key is one rkt cannot read: no download can make its signatures verify."""


class FetchedImage(converge.Resource):
    """The image at ``dest`` and its signature beside it.

    Current is the kept signature file, desired what discovery finds: the registry's signature
    and the key to trust. They differ when the kept image does not verify with that signature and
    key (or ``force``): it is downloaded; and when the kept signature file is not that signature.
    """

    def __init__(self, module):
        super().__init__(module)
        gpg.require_gnupg(module)
        p = self.params
        self.name, version = discovery.parse_name(p['name'])
        self.version = p['version'] or version
        self.labels = dict(version=self.version, os=p['os'], arch=p['arch'])
        self.dest = p['dest']
        self.signature_path = self.dest + '.asc'
        self.max_size = None  # bytes, from max_size, by desired()
        self.pin = None
        # (signer, ImageInfo) of the image at dest once verified, by differences() or apply().
        self.verified = None

    # -- HTTP ------------------------------------------------------------------------------------

    @property
    def client(self):
        p = self.module.params
        return https.Client(ca_path=p['ca_path'], timeout=p['timeout'], port=p['port'], agent=_USER_AGENT)

    def get_page(self, url):
        """Discovery page text; ``None`` for a 404, which makes discovery walk up the path."""
        client = self.client
        try:
            response = client.open(url)
        except https.HttpsError as e:
            if e.details.get('status') == 404:
                return None
            raise
        return client.read(response, url, _SMALL_LIMIT).decode('utf-8', 'replace')

    def get_small(self, url, what):
        return self.client.get(url, _SMALL_LIMIT, what)

    def download(self, url, f):
        client = self.client
        https.copy_body(client.open(url), url, f, self.max_size, client.timeout)

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

    def _kept(self, key, signature, endpoints):
        """The kept image's ``(signer, info)`` when the registry's current signature still verifies it."""
        if self.params['force'] or not os.path.isfile(self.dest):
            return None
        try:
            signer = self.verify(key, self.dest, signature, endpoints.aci_url)
            return signer, self.check_image(self.dest, endpoints.aci_url)
        except KeyRefused:
            raise  # downloading again would only fail the same way
        except FetchError:
            return None

    def current(self):
        return dict(signature=files.read_bytes(self.signature_path))

    def desired(self, current):
        try:
            self.max_size = https.parse_max_size(self.params['max_size'])
        except https.HttpsError as e:
            raise FetchError(e.msg)
        # Here, not only when writing: check mode must fail where the run would, and before any download.
        files.check_writable_dir(self.module, self.dest)
        if self.params['key_fingerprint']:
            try:
                self.pin = gpg.normalize_fingerprint(self.params['key_fingerprint'])
            except gpg.GpgError as e:
                raise FetchError('key_fingerprint: %s' % e)
        try:
            endpoints = discovery.discover(self.name, self.labels, self.get_page, self.params['port'])
        except discovery.DiscoveryError as e:
            raise FetchError(str(e))
        signature = self.get_small(endpoints.asc_url, 'detached signature')
        return dict(endpoints=endpoints, signature=signature, key=self.trusted_key(endpoints))

    def differences(self, current, desired):
        # Verifying reads the whole kept image: done once here, and apply downloads only what this says.
        self.verified = self._kept(desired['key'], desired['signature'], desired['endpoints'])
        reasons = [] if self.verified else ['image']
        if current['signature'] != desired['signature']:
            reasons.append('signature')
        return reasons

    def apply(self, current, desired, reasons):
        applied = {}
        if 'image' in reasons:
            aci_url = desired['endpoints'].aci_url

            def download_and_verify(f):
                self.download(aci_url, f)
                f.flush()
                signer = self.verify(desired['key'], f.name, desired['signature'], aci_url)
                self.verified = signer, self.check_image(f.name, aci_url)

            files.write_file(self.module, self.dest, writer=download_and_verify, default_mode=DEFAULT_MODE)
            applied['downloaded'] = True
        if 'signature' in reasons:
            files.write_file(self.module, self.signature_path, content=desired['signature'], default_mode=DEFAULT_MODE)
        return applied

    def settle(self, changed):
        if not os.path.exists(self.dest):
            return changed
        return files.apply_file_attributes(self.module, self.dest, changed, default_mode=DEFAULT_MODE)

    def result(self, current, desired, reasons):
        endpoints = desired['endpoints']
        result = dict(name=self.name, version=self.version, dest=self.dest, aci_url=endpoints.aci_url,
                      discovery_page=endpoints.page, downloaded=False)
        if self.verified:  # not when check mode stopped before a download
            signer, info = self.verified
            labels = dict((label.get('name'), label.get('value')) for label in info.manifest.get('labels') or [])
            result.update(signer=signer, image_id=info.image_id, version=labels.get('version', self.version),
                          manifest=info.manifest)
        return result

    def diff(self, current, desired):
        return None  # aci_fetch documents diff_mode: none
