# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What runs on managed hosts with their distribution's cryptography, and the bounds that say which.

`make crypto-compat` runs the x509 tests with each host OS's cryptography (HOST_CRYPTOGRAPHY in the
Makefile). That covers the host-side code only while x509.py is the one plugin file that imports
cryptography, and only while the Makefile's oldest release is the one the module asks for.

The pki role makes the key and request on the host and signs on the controller: here the host is
this test's Python (the host release under test) and the controller is the project venv's, whose
cryptography is the one tests/constraints.txt pins.
"""

import ast
import json
import os
import re
import subprocess

import cryptography
import pytest

from ansible_collections.aci.registry.plugins.module_utils import x509
from ansible_collections.aci.registry.plugins.modules import x509_cert

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CONTROLLER_PYTHON = os.path.join(ROOT, '.venv', 'bin', 'python')


def _imports_cryptography(path):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ''] if isinstance(node, ast.ImportFrom) else []
        if any(name == 'cryptography' or name.startswith('cryptography.') for name in names):
            return True
    return False


def test_only_x509_imports_cryptography():
    found = []
    for top, dirs, files in os.walk(os.path.join(ROOT, 'plugins')):
        found += [os.path.relpath(os.path.join(top, f), ROOT) for f in files
                  if f.endswith('.py') and _imports_cryptography(os.path.join(top, f))]
    assert found == ['plugins/module_utils/x509.py'], \
        'only x509.py may import cryptography (its shims cover every host release); found %s' % found


def _makefile_variable(name):
    with open(os.path.join(ROOT, 'Makefile')) as f:
        match = re.search(r'^%s\s*:=\s*(.*)$' % name, f.read(), re.M)
    return match.group(1).split()


def test_oldest_host_release_is_the_minimum():
    releases = _makefile_variable('HOST_CRYPTOGRAPHY')
    assert releases[0] == x509.MIN_CRYPTOGRAPHY_VERSION
    assert all(x509.version_ok(r) for r in releases)


def test_module_documents_the_minimum():
    with open(os.path.join(ROOT, 'plugins', 'modules', 'x509_cert.py')) as f:
        assert '  - cryptography >= %s\n' % x509.MIN_CRYPTOGRAPHY_VERSION in f.read()


def _on_controller(args, tmp_path):
    """Runs x509_cert with the controller's Python, as a delegated task does; returns its result."""
    if not os.access(CONTROLLER_PYTHON, os.X_OK):
        pytest.fail('controller venv not found at %s: run `make venv`' % CONTROLLER_PYTHON)
    args_file = tmp_path / 'controller-args.json'
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, '.build', 'collections'))
    proc = subprocess.run([CONTROLLER_PYTHON, '-m', 'ansible_collections.aci.registry.plugins.modules.x509_cert',
                           str(args_file)], capture_output=True, text=True, env=env, check=False)
    result = json.loads(proc.stdout)
    assert proc.returncode == 0 and not result.get('failed'), result
    return result


@pytest.fixture(scope='module')
def controller_ca(tmp_path_factory):
    d = tmp_path_factory.mktemp('controller')
    args = dict(kind='ca', path=str(d / 'ca.pem'), privatekey_path=str(d / 'ca.key'), key_type='ecdsa',
                subject=dict(common_name='Controller CA'))
    _on_controller(args, d)
    return d


@pytest.mark.parametrize('key', [dict(key_type='rsa', key_size=2048), dict(key_type='ecdsa'), dict(key_type='ed25519')],
                         ids=['rsa', 'ecdsa', 'ed25519'])
def test_controller_signs_what_the_host_requests(tmp_path, run_module, controller_ca, key):
    request = dict(kind='csr', privatekey_path=str(tmp_path / 'host.key'), csr_path=str(tmp_path / 'host.csr'),
                   subject=dict(common_name='registry1'), subject_alt_names=['registry1', 'IP:192.0.2.10'], **key)
    made = run_module(x509_cert.main, request, expect_failure=False)
    sign = dict(kind='sign', csr_src=request['csr_path'], path=str(tmp_path / 'host.pem'),
                ca_cert_path=str(controller_ca / 'ca.pem'), ca_privatekey_path=str(controller_ca / 'ca.key'))
    signed = _on_controller(sign, tmp_path)
    assert signed['changed'] and signed['public_key'] == made['public_key']
    assert signed['subject_alt_names'] == ['DNS:registry1', 'IP:192.0.2.10']

    # The host reads what the controller issued with its own, older cryptography.
    with open(sign['path'], 'rb') as f:
        cert = x509.load_certificate(f.read(), 'path')
    with open(sign['ca_cert_path'], 'rb') as f:
        ca = x509.load_certificate(f.read(), 'ca_cert_path')
    assert x509.signed_by(cert, ca.public_key()), 'host cryptography %s' % cryptography.__version__
    assert x509.certificate_facts(cert)['fingerprint'] == signed['fingerprint']

    # Second runs on both sides change nothing.
    assert run_module(x509_cert.main, request, expect_failure=False)['changed'] is False
    assert _on_controller(sign, tmp_path)['changed'] is False
