"""aci_fetch against a hostile HTTPS registry on loopback: each trick is refused, nothing is written.

The registry is aci_fetch's unit-test registry (real TLS, real gpg, real ACIs); each case makes its
request handler misbehave in one way for one path.
"""

import http.server
import os
import threading
import time

import pytest

import figures
from plugins.modules import test_aci_fetch as base
# pki, registry and signer are fixtures: pytest finds them here by name.
from plugins.modules.test_aci_fetch import fetch_args, pki, registry, signer  # noqa: F401  pylint: disable=unused-import

from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.tests.unit.plugins.https_server import Handler
from ansible_collections.aci.registry.plugins.modules import aci_fetch

pytestmark = base.pytestmark

IMAGE = '/app/v1-linux-amd64.aci'
# An endless body stops here at the latest, whatever the client does: the test's own bound.
ENDLESS_CAP = 64 * 1024 * 1024


@pytest.fixture
def misbehave(monkeypatch):
    """``misbehave(path, action)``: the registry answers requests for ``path`` with ``action(handler)``."""
    actions = {}
    plain_get = Handler.do_GET

    def do_get(handler):
        path = handler.path.split('?')[0]
        if path in actions and not getattr(handler.server, 'honest', False):
            return actions[path](handler)
        return plain_get(handler)

    monkeypatch.setattr(Handler, 'do_GET', do_get)
    return actions.__setitem__


@pytest.fixture
def plain_http(registry):
    """The same web root over plain HTTP, on another port: where a downgrade redirect points."""
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.root, server.requests, server.honest = str(registry['root']), [], True
    thread = threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=0.02), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def redirect_to(location):
    def action(handler):
        handler.send_response(302)
        handler.send_header('Location', location)
        handler.send_header('Content-Length', '0')
        handler.end_headers()
    return action


def endless(handler):
    handler.send_response(200)
    handler.send_header('Content-Type', 'application/octet-stream')
    handler.end_headers()
    block = b'\0' * 65536
    try:
        for _block in range(ENDLESS_CAP // len(block)):
            handler.wfile.write(block)
    except OSError:
        pass  # the client hung up: what it should do


def stalled(handler):
    handler.send_response(200)
    handler.send_header('Content-Length', '100000')
    handler.end_headers()
    handler.wfile.write(b'\0' * 10)
    handler.wfile.flush()
    time.sleep(3)


def body(data):
    def action(handler):
        handler.send_response(200)
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except OSError:
            pass
    return action


def _refused(run_module, registry, tmp_path, **kw):
    args = fetch_args(registry, tmp_path, 'localhost/app:v1', **kw)
    started = time.monotonic()
    result = run_module(aci_fetch.main, args, expect_failure=True)
    out = tmp_path / 'out'
    left = sorted(os.listdir(out))
    assert left == [], 'a refused fetch left %s in %s' % (left, out)
    assert 'Traceback' not in result['msg'] and 'exception' not in result
    return result, time.monotonic() - started


CASES = ['redirect to http://', 'redirect to another host', 'endless image body', 'stalled image body',
         'image over max_size', 'signature by another key', 'signature over other bytes',
         'oversized .asc', 'oversized key file']


@pytest.mark.parametrize('case', CASES)
def test_hostile_registry_is_refused(case, registry, tmp_path, signer, run_module, misbehave, plain_http):
    root, port = registry['root'], registry['port']
    kw = dict(trusted_key=signer['pubkey'])
    if case == 'redirect to http://':
        misbehave(IMAGE, redirect_to('http://localhost:%d%s' % (plain_http, IMAGE)))
        expect = 'which is not https://'
    elif case == 'redirect to another host':
        # The certificate names localhost only: 127.0.0.1 is another host to TLS.
        misbehave(IMAGE, redirect_to('https://127.0.0.1:%d%s' % (port, IMAGE)))
        expect = 'cannot fetch'
    elif case == 'endless image body':
        misbehave(IMAGE, endless)
        kw['max_size'] = '2M'
        expect = 'larger than max_size'
    elif case == 'stalled image body':
        misbehave(IMAGE, stalled)
        kw['timeout'] = 1
        expect = 'timed out (timeout is 1 seconds). Nothing was written.'
    elif case == 'image over max_size':
        kw['max_size'] = '100'
        expect = 'larger than max_size'
    elif case == 'signature by another key':
        sig, _fpr = g.sign_detached(signer['evil'], signer['evil_fpr'], str(root / IMAGE.lstrip('/')))
        (root / (IMAGE.lstrip('/') + '.asc')).write_bytes(sig)
        expect = 'signature check of'
    elif case == 'signature over other bytes':
        other = tmp_path / 'other'
        other.write_bytes(b'not the image')
        sig, _fpr = g.sign_detached(signer['gpg'], signer['fpr'], str(other))
        (root / (IMAGE.lstrip('/') + '.asc')).write_bytes(sig)
        expect = 'signature check of'
    elif case == 'oversized .asc':
        misbehave(IMAGE + '.asc', body(b'-' * (2 * 1024 * 1024)))
        expect = 'not a detached signature'
    elif case == 'oversized key file':
        misbehave('/pubkeys.gpg', body(b'-' * (2 * 1024 * 1024)))
        kw = dict(key_fingerprint=signer['fpr'])
        expect = 'not a public key file'
    result, seconds = _refused(run_module, registry, tmp_path, **kw)
    assert expect in result['msg'], result['msg']
    figures.record('hostile upstream', 'aci_fetch: %s' % case, 'refused in %.1f s' % seconds)


def test_bad_max_size_is_refused_before_any_request(registry, tmp_path, signer, run_module):
    result, _seconds = _refused(run_module, registry, tmp_path, trusted_key=signer['pubkey'], max_size='lots')
    assert "max_size 'lots' is not a size" in result['msg']
    assert registry['requests'] == []
