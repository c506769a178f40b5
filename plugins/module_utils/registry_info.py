# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a registry publishes, read from its ``index.json``: the resource of aci_registry_info.

The index is read from a web root on the host (``path``) or from the registry over HTTPS
(``url``, with https.py: the certificate verified, no redirect to http, a size limit), checked by
registry_index.py and returned, narrowed to the images asked for. Reading changes nothing, so
there is never a reason to change, in check mode or not.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from ansible_collections.aci.registry.plugins.module_utils import converge, files, https, registry_index, webroot

# An index entry is about 700 bytes: 32 MiB is tens of thousands of images, and no more is read.
MAX_INDEX_SIZE = 32 * 1024 * 1024
_USER_AGENT = 'aci.registry-aci_registry_info'


def index_url(url):
    """The index of the registry at ``url`` (its root, or the index itself)."""
    url = url.rstrip('/')
    return url if url.endswith('/' + webroot.INDEX_FILE) else '%s/%s' % (url, webroot.INDEX_FILE)


def selected(images, names, version, os_name, arch):
    """The images with one of ``names`` (all when empty), and the version (``latest``: the alias's), os and arch."""
    return [i for i in images
            if (not names or i['name'] in names)
            and (not version or i['version'] == version or (version == webroot.LATEST_VERSION and i['latest']))
            and (not os_name or i['os'] == os_name) and (not arch or i['arch'] == arch)]


def missing_files(root, doc, images):
    """Web-root relative paths the index names for ``images`` (and the key) that are not files in ``root``."""
    relpaths = [webroot.PUBKEYS_FILE]
    for i in images:
        path = webroot.split_name(i['name'], doc['domain'])
        relpaths += [webroot.image_relpath(path, i['version'], i['os'], i['arch']),
                     webroot.signature_relpath(path, i['version'], i['os'], i['arch'])]
    return [r for r in relpaths if not os.path.isfile(os.path.join(root, *r.split('/')))]


class RegistryInfo(converge.Resource):
    """current: the registry's index; desired: the images asked for in it. Reading changes nothing."""

    errors = (registry_index.IndexFormatError, webroot.LayoutError)

    def source(self):
        p = self.params
        return os.path.join(p['path'], webroot.INDEX_FILE) if p['path'] else index_url(p['url'])

    def _read_path(self, where):
        if not os.path.isdir(self.params['path']):
            raise converge.ModuleError('web root %s does not exist: give the directory aci_webroot lays out '
                                       '(the server role\'s server_webroot)' % self.params['path'])
        data = files.read_bytes(where)
        if data is None:
            raise converge.ModuleError(
                '%s has no %s: it is not a registry web root, or no aci.registry.aci_webroot that writes the index '
                'has run there yet. Publish to it (the aci.registry.publish role) and ask again.'
                % (self.params['path'], webroot.INDEX_FILE), path=where)
        return data

    def _read_url(self, where):
        p = self.params
        client = https.Client(ca_path=p['ca_path'], timeout=p['timeout'], port=urlsplit(where).port or 443,
                              agent=_USER_AGENT)
        try:
            return client.get(where, MAX_INDEX_SIZE, 'registry index')
        except https.HttpsError as e:
            if e.details.get('status') != 404:
                raise
            raise converge.ModuleError(
                '%s answered 404: the URL is not the root of an aci.registry registry, or the registry was published '
                'before it had an index. Check the URL, or publish again (the aci.registry.publish role).' % where,
                url=where, status=404)

    def current(self):
        where = self.source()
        data = self._read_path(where) if self.params['path'] else self._read_url(where)
        return registry_index.parse(data, where)

    def desired(self, current):
        """The images asked for; with ``check_files``, only when every file they need is in the web root."""
        p = self.params
        images = selected(current['images'], p['name'], p['version'], p['os'], p['arch'])
        if p['path'] and p['check_files']:
            missing = missing_files(p['path'], current, images)
            if missing:
                raise converge.ModuleError(
                    'the index of %s names files that are not there: %s. Publish again (aci.registry.aci_webroot '
                    'never writes an index naming missing files, so something removed them since).'
                    % (p['path'], ', '.join(missing)), missing=missing)
        return dict(current, images=images)

    def differences(self, current, desired):
        return []

    def result(self, current, desired, reasons):
        return dict(source=self.source(), format_version=desired['format_version'], domain=desired['domain'],
                    signer_fingerprint=desired['signer_fingerprint'], key_url=desired['key_url'],
                    images=desired['images'], names=sorted(set(i['name'] for i in desired['images'])))

    def diff(self, current, desired):
        return None
