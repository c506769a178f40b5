# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The "serve your ACIs over HTTPS" server of a hand-made walkthrough, as bench/server.py measures it.

Deliberately naive, because that is the point of the comparison: a single-threaded
``http.server.HTTPServer`` with ``SimpleHTTPRequestHandler`` (HTTP/1.0, a connection and a TLS
handshake per request), its listening socket wrapped in an ``ssl`` context. It runs inside the
benchmark container with the distribution's python3:

    python3 server_walkthrough.py WEBROOT PORT CERT KEY
"""

import http.server
import os
import ssl
import sys


def main():
    webroot, port, cert, key = sys.argv[1:5]
    os.chdir(webroot)
    httpd = http.server.HTTPServer(('127.0.0.1', int(port)), http.server.SimpleHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.serve_forever()


if __name__ == '__main__':
    main()
