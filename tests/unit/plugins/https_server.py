# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A registry web root served over real TLS on loopback, answering as the server role's nginx does,
with a throw-away CA: for the modules that read a registry over HTTPS (aci_fetch, aci_registry_info)."""

import contextlib
import datetime
import http.server
import os
import ssl
import threading
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.aci.registry.plugins.module_utils import webroot


def _cert(subject, issuer_key, key, issuer=None, ca=False, names=('localhost',)):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(d, names=('localhost',)):
    """``ca.pem`` and a ``server.pem``/``server.key`` for ``names`` it issued, in the directory ``d``."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert('test CA', ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(names[0], ca_key, key, issuer=ca.subject, names=names)
    (d / 'ca.pem').write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / 'server.pem').write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (d / 'server.key').write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    return d


class Handler(http.server.SimpleHTTPRequestHandler):
    """Answers like the server role's nginx: ?ac-discovery=1 from .discovery/<path>.html."""

    def translate_path(self, path):
        url = urllib.parse.urlsplit(path)
        rel = url.path.strip('/')
        if 'ac-discovery=1' in url.query.split('&'):
            rel = os.path.join(webroot.DISCOVERY_DIR, rel + '.html') if rel else webroot.CATALOG_FILE
        return os.path.join(self.server.root, rel)

    def log_request(self, code='-', size='-'):
        self.server.requests.append(urllib.parse.urlsplit(self.path).path)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    """Bound at once (its ``port`` known before the web root is laid out); serves once started."""

    def __init__(self, root, pki, handler=None):
        super().__init__(('127.0.0.1', 0), handler or Handler)
        self.root = str(root)
        self.requests = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(pki / 'server.pem'), str(pki / 'server.key'))
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]

    @contextlib.contextmanager
    def running(self):
        # shutdown() waits for serve_forever's next poll: the default half second, on every test.
        thread = threading.Thread(target=self.serve_forever, kwargs=dict(poll_interval=0.02), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.shutdown()
            self.server_close()


@contextlib.contextmanager
def serve(root, pki, handler=None):
    """A started Server for ``root`` (``handler``: another request handler class, e.g. one that redirects)."""
    with Server(root, pki, handler).running() as server:
        yield server
