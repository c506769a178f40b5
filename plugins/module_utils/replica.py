# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A replica taking its web-root files from a peer replica over HTTPS, so bytes leave the controller once.

``ReplicaFiles`` is the converge resource of aci_replica_sync. The controller lists the checksum of
every file it built and signed; a file the replica lacks (or holds with other bytes) is downloaded
from the peer into a temporary file beside its destination and moved into place only when its
checksum is the controller's. Equal checksums are the proof: the peer is trusted for nothing but
carrying the bytes. A file the peer cannot give is reported, not fatal: the role copies it from the
controller, so a lost peer costs bytes, never consistency.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import socket
import ssl
import urllib.parse

from ansible_collections.aci.registry.plugins.module_utils import converge, files, gpg, https, webroot

DEFAULT_MODE = 0o644
_USER_AGENT = 'aci.registry-aci_replica_sync'
_HEX_LENGTHS = dict(sha1=40, sha256=64, sha512=128)


class PeerDown(https.HttpsError):
    """The peer cannot be reached or its TLS refused: asking it for the next file would fail the same way."""


class PeerConnection(http.client.HTTPSConnection):
    """HTTPS to the peer's address, with the certificate checked for the registry's name.

    What ``curl --resolve name:port:address`` does: the replicas share one name (and a certificate
    for it) but a replica cannot reach its peer through that name, which may point at itself or at
    a load balancer.
    """

    def __init__(self, address, server_name, port, context, timeout):
        super().__init__(server_name, port, timeout=timeout, context=context)
        self.address = address
        self.tls = context

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def parse_peer(peer):
    """``(address, port)`` of an ``https://address[:port]`` base URL."""
    url = urllib.parse.urlsplit(peer)
    if url.scheme != 'https' or not url.hostname or url.path.strip('/') or url.query:
        raise converge.ModuleError('peer %r is not the https:// base URL of a replica (such as https://10.88.0.5 '
                                   'or https://reg1.example.com:443): files are only taken over HTTPS.' % peer)
    try:
        return url.hostname, url.port or 443
    except ValueError as e:
        raise converge.ModuleError('peer %r: %s' % (peer, e))


def check_relpath(relpath):
    """Refuse a listed path that would write outside the web root or into a hidden directory."""
    parts = relpath.split('/')
    if not relpath or relpath.startswith('/') or any(part in ('', '.', '..') for part in parts):
        raise converge.ModuleError('checksums: %r is not a path relative to the web root (no leading /, no . or .. '
                                   'parts, no empty parts).' % relpath)


def check_checksum(relpath, given, algorithm):
    checksum = str(given or '').lower()
    if not re.match('^[0-9a-f]{%d}$' % _HEX_LENGTHS[algorithm], checksum):
        raise converge.ModuleError('checksums: the checksum of %s is %r, not a %s in hex (%d digits). Give the '
                                   'checksum ansible.builtin.find or stat lists with checksum_algorithm %s.'
                                   % (relpath, given, algorithm, _HEX_LENGTHS[algorithm], algorithm))
    return checksum


def check_size(relpath, given):
    try:
        return int(given)
    except (TypeError, ValueError):
        raise converge.ModuleError('sizes: the size of %s is %r, not a number of bytes.' % (relpath, given))


def fetch_order(relpath):
    """The key first, then signatures, then images: an image's gpg check reads the other two from the web root."""
    if relpath == webroot.PUBKEYS_FILE:
        return (0, relpath)
    return (1 if relpath.endswith('.' + webroot.SIGNATURE_EXT) else 2, relpath)


class _Hashing:
    """A file object that hashes what it writes: the checksum is known without reading a large image twice."""

    def __init__(self, f, algorithm):
        self.f = f
        self.name = f.name
        self.digest = hashlib.new(algorithm)

    def write(self, data):
        self.digest.update(data)
        return self.f.write(data)


class Peer:
    """GETs of web-root files from one peer; a 200 answer only, no redirect followed."""

    def __init__(self, base, server_name, ca_path, timeout):
        self.address, self.port = parse_peer(base)
        self.base = base.rstrip('/')
        self.server_name = server_name
        self.timeout = timeout
        try:
            # Certificates and names are always checked: with the system store (which the ca_trust
            # role fills) or with ca_path.
            self.context = ssl.create_default_context(cafile=ca_path)
        except (OSError, ssl.SSLError) as e:
            raise converge.ModuleError('ca_path %s cannot be read as a PEM CA bundle: %s' % (ca_path, e))

    def url(self, relpath):
        return '%s/%s (as %s)' % (self.base, relpath, self.server_name)

    def get(self, relpath):
        url = self.url(relpath)
        conn = PeerConnection(self.address, self.server_name, self.port, self.context, self.timeout)
        try:
            conn.request('GET', urllib.parse.quote('/' + relpath), headers={'User-Agent': _USER_AGENT})
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            reason = str(e) or type(e).__name__
            raise PeerDown('cannot reach %s: %s. Check the peer listens there and its certificate names %s and '
                           'is issued by a CA this host trusts.' % (url, reason, self.server_name), url=url)
        if response.status != 200:
            conn.close()
            where = response.getheader('Location')
            if where:
                raise https.HttpsError('refusing %s: it redirects to %s, and a peer is read directly, never '
                                       'followed elsewhere' % (url, where), url=url)
            raise https.HttpsError('%s answered HTTP %d %s' % (url, response.status, response.reason), url=url)
        return conn, response


class ReplicaFiles(converge.Resource):
    """The listed files in the web root at ``path``, with the checksums the controller listed.

    Current is the checksum of each listed file in the web root (``None`` when missing); desired the
    controller's. Each that differs is a reason, fetched from the peer by ``apply``.
    """

    def __init__(self, module):
        super().__init__(module)
        self.root = self.params['path']
        self.algorithm = self.params['checksum_algorithm']
        self.wanted = {}
        self.sizes = {}
        self.max_size = None
        self.peer = None  # by current(): bad options become a failure message there, not a traceback
        # Where the host has them: a second check, by the same code aci_fetch and rkt's rules use.
        self.gpg_available = gpg.HAS_GNUPG and shutil.which('gpg') is not None
        self.fetched = []
        self.not_fetched = []
        self.bytes = 0
        self.signatures_checked = 0

    def _read_options(self):
        p = self.params
        for relpath, checksum in sorted(p['checksums'].items()):
            check_relpath(relpath)
            self.wanted[relpath] = check_checksum(relpath, checksum, self.algorithm)
        self.sizes = dict((relpath, check_size(relpath, size)) for relpath, size in p['sizes'].items())
        self.max_size = https.parse_max_size(p['max_size'])
        self.peer = Peer(p['peer'], p['server_name'], p['ca_path'], p['timeout'])

    def _abs(self, relpath):
        return os.path.join(self.root, relpath)

    def _checksum(self, relpath):
        path = self._abs(relpath)
        return self.module.digest_from_file(path, self.algorithm) if os.path.isfile(path) else None

    def current(self):
        self._read_options()
        if not os.path.isdir(self.root):
            raise converge.ModuleError('path %s is not a directory: create the web root first.' % self.root)
        return dict((relpath, self._checksum(relpath)) for relpath in self.wanted)

    def desired(self, current):
        return dict(self.wanted)

    def differences(self, current, desired):
        return sorted((relpath for relpath in desired if current[relpath] != desired[relpath]), key=fetch_order)

    def apply(self, current, desired, reasons):
        down = None
        for relpath in reasons:
            if down is not None:
                # One unreachable peer is reported once, not waited for once per file.
                self.not_fetched.append(dict(path=relpath, reason='not asked: %s' % down))
                continue
            try:
                self.bytes += self._take(relpath, desired[relpath])
                self.fetched.append(relpath)
            except PeerDown as e:
                down = e.msg
                self.not_fetched.append(dict(path=relpath, reason=e.msg))
            except (https.HttpsError, gpg.GpgError) as e:
                self.not_fetched.append(dict(path=relpath, reason=str(e)))
        return {}

    def _limit(self, relpath):
        """The most bytes to accept for ``relpath``, and what the limit is, for the message."""
        size = self.sizes.get(relpath)
        if size is None or size >= self.max_size:
            return self.max_size, 'max_size'
        return size, "the controller's size of it"

    def _take(self, relpath, checksum):
        """Download, check and move one file into place; returns its size. Raises, writing nothing, on any failure."""
        dest = self._abs(relpath)
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
            self.module.set_fs_attributes_if_different(files.file_attributes(self.module, directory, mode=0o755),
                                                       False)
        conn, response = self.peer.get(relpath)
        sizes = []

        def download_and_check(f):
            hashing = _Hashing(f, self.algorithm)
            most, limit = self._limit(relpath)
            try:
                sizes.append(https.copy_body(response, self.peer.url(relpath), hashing, most, self.peer.timeout, limit))
            except http.client.HTTPException as e:  # the peer closed before the whole body had arrived
                raise https.HttpsError('%s stopped sending: %s. Nothing was written.'
                                       % (self.peer.url(relpath), type(e).__name__))
            if hashing.digest.hexdigest() != checksum:
                raise https.HttpsError('%s sent %d bytes whose %s is %s, not the controller\'s %s: refused, nothing '
                                       'was written.' % (self.peer.url(relpath), sizes[0], self.algorithm,
                                                         hashing.digest.hexdigest(), checksum))
            f.flush()
            if self.gpg_available and relpath.endswith('.' + webroot.IMAGE_EXT):
                self._verify_signature(relpath, f.name)

        try:
            files.write_file(self.module, dest, writer=download_and_check, default_mode=DEFAULT_MODE)
        finally:
            conn.close()
        return sizes[0]

    def _verify_signature(self, relpath, path):
        key = files.read_bytes(self._abs(webroot.PUBKEYS_FILE))
        signature = files.read_bytes(self._abs(relpath + '.asc'))
        if key is None or signature is None:
            raise https.HttpsError('%s cannot be checked with gpg: the web root has no %s or no %s.asc. Nothing was '
                                   'written.' % (relpath, webroot.PUBKEYS_FILE, relpath))
        try:
            gpg.verify_detached(key, path, signature)
        except gpg.GpgError as e:
            raise https.HttpsError('%s has the controller\'s checksum but its signature check failed: %s Nothing was '
                                   'written.' % (relpath, e))
        self.signatures_checked += 1

    def settle(self, changed):
        if not self.module.check_mode:
            changed = bool(self.fetched)
        # A file with the right bytes but another mode or owner is put right, as the copy would.
        for relpath in self.wanted:
            if relpath not in self.fetched and os.path.isfile(self._abs(relpath)):
                changed = files.apply_file_attributes(self.module, self._abs(relpath), changed,
                                                      default_mode=DEFAULT_MODE)
        return changed

    def result(self, current, desired, reasons):
        if self.module.check_mode:
            fetched = list(reasons)
            msg = '%d of %d files would be taken from %s' % (len(fetched), len(desired), self.peer.base)
        else:
            fetched = self.fetched
            msg = '%d of %d files taken from %s' % (len(fetched), len(desired), self.peer.base)
            if self.not_fetched:
                msg += ('; %d not: the peer could not give them with the controller\'s bytes, so copy them from '
                        'the controller (not_fetched says why)' % len(self.not_fetched))
        return dict(fetched=fetched, not_fetched=self.not_fetched, bytes=self.bytes, peer=self.peer.base,
                    signatures_checked=self.signatures_checked, msg=msg)

    def diff(self, current, desired):
        return None
