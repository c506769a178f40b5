"""The catalog as a person sees it: rendered by headless Chromium over HTTPS from a registry."""

import base64
import hashlib
import os
import re
import subprocess
import tempfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

DOMAIN = 'registry.aci.test'
STATE = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'state')
ARTIFACTS = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'tests', 'output')
CHROMIUM = '/usr/bin/chromium'


def spki_pin(cert_path):
    """Chromium's pin for exactly this certificate's key: the controller's browser does not use
    the OS trust store, and pinning is narrower than turning certificate checks off."""
    with open(cert_path, 'rb') as f:
        cert = x509.load_pem_x509_certificate(f.read())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def chromium(registry, *args):
    address = subprocess.check_output(
        ['podman', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', registry], text=True).strip()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               '--user-data-dir=%s' % profile, '--host-resolver-rules=MAP %s %s' % (DOMAIN, address),
               '--ignore-certificate-errors-spki-list=%s' % spki_pin(os.path.join(STATE, 'pki', 'issued', registry + '.crt')),
               '--window-size=1280,1000'] + list(args) + ['https://%s/' % DOMAIN]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=True).stdout


@pytest.fixture(scope='module')
def dom():
    if not os.path.exists(CHROMIUM):
        pytest.fail('chromium is not installed: `make deps` installs it')
    return chromium('aci-reg1', '--dump-dom')


def test_catalog_lists_every_image_with_its_facts(dom):
    rows = re.findall(r'<tr class="image" data-name="([^"]+)" data-version="([^"]+)">(.*?)</tr>', dom)
    assert sorted((name, version) for name, version, dummy in rows) == sorted([
        (DOMAIN + '/app', 'v0.0.1'), (DOMAIN + '/app', 'v0.0.2'), (DOMAIN + '/app1', 'v1.0.0'), (DOMAIN + '/team/tool', '1.0'),
        (DOMAIN + '/curl', 'v1')])
    for dummy_name, dummy_version, cells in rows:
        assert '<td class="platform">linux/amd64</td>' in cells
        assert re.search(r'<code>sha512-[0-9a-f]{128}</code>', cells)
        assert re.search(r'<td class="size">[\d.]+ (B|KiB|MiB)</td>', cells)


def test_catalog_shows_the_key_and_copy_paste_commands(dom):
    fingerprint = re.search(r'<code class="fingerprint">([0-9A-F ]+)</code>', dom).group(1)
    assert len(fingerprint.replace(' ', '')) == 40
    assert 'rkt trust --prefix=%s/app1 https://%s/pubkeys.gpg' % (DOMAIN, DOMAIN) in dom
    assert 'rkt fetch %s/app:v0.0.2' % DOMAIN in dom  # the newest version of app


def test_screenshot_is_kept_as_an_artifact():
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.abspath(os.path.join(ARTIFACTS, 'registry-catalog.png'))
    chromium('aci-reg2', '--screenshot=%s' % path)
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
