# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the plugin unit tests: appc's reference validator, the real rkt, keys made
with gpg directly, damaged gzip read with ISA-L and with zlib, modules run through the ansible CLI."""

import gzip
import itertools
import json
import os
import struct
import subprocess
import sys
import zlib

import pytest

from ansible_collections.aci.registry.plugins.module_utils import aci
from ansible_collections.aci.registry.plugins.module_utils import gpg as g
from ansible_collections.aci.registry.plugins.module_utils import manifest as acm
from ansible_collections.aci.registry.plugins.module_utils import streams
from ansible_collections.aci.registry.plugins.modules import aci_build

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
ACTOOL = os.environ.get('ACTOOL', os.path.join(ROOT, '.build', 'bin', 'actool'))
# Where the Makefile looks too: the client this collection serves, rkt 1.30.0, is packaged nowhere.
RKT_DEFAULT = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'rkt', 'rkt'))
RKT_TIMEOUT = 120


@pytest.fixture(scope='session')
def actool():
    """Path of ``actool`` (appc/spec 0.8.11); fails, never skips, when it is missing."""
    if not os.access(ACTOOL, os.X_OK):
        pytest.fail('appc reference validator not found at %s: run `make actool` '
                    '(or set ACTOOL to its path)' % ACTOOL)
    return ACTOOL


@pytest.fixture
def actool_validate(actool):
    """``actool_validate(path)`` asserts that ``actool validate`` accepts the image without a word."""

    def validate(path):
        proc = subprocess.run([actool, 'validate', str(path)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and not proc.stderr.strip(), \
            'actool validate %s failed (rc=%d): %s' % (path, proc.returncode, proc.stderr)

    return validate


@pytest.fixture
def run_aci_build(run_module, actool_validate):
    """``run_module`` for aci_build that has actool validate every image a run writes."""

    def run_and_validate(args, **kwargs):
        result = run_module(aci_build.main, args, **kwargs)
        if result.get('changed') and not result.get('failed') and not kwargs.get('check_mode'):
            actool_validate(args['dest'])
        return result

    return run_and_validate


@pytest.fixture(scope='session')
def rkt():
    """Path of the real rkt 1.30.0: ``$RKT``, else ``../shared/rkt/rkt`` beside the checkout.

    Skips only when neither names anything. A named or present rkt that is not an executable
    rkt 1.30 fails: where the client is there, a check against it must never turn into a skip.
    """
    named = os.environ.get('RKT', '')
    path = named or RKT_DEFAULT
    if not named and not os.path.lexists(path):
        pytest.skip('no rkt: set RKT=/path/to/rkt (rkt 1.30.0) to run the checks against the real client '
                    '(nothing at %s either)' % RKT_DEFAULT)
    origin = 'RKT=%s' % named if named else 'default rkt %s' % path
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail('%s is missing or not executable: point RKT at rkt 1.30.0' % origin)
    try:
        proc = subprocess.run([path, 'version'], capture_output=True, text=True, timeout=RKT_TIMEOUT, check=False)
    except OSError as e:
        pytest.fail('%s cannot be run: %s' % (origin, e))
    if proc.returncode != 0 or 'rkt Version: 1.30.' not in proc.stdout:
        pytest.fail('%s is not rkt 1.30 (`rkt version`: rc=%d, %s%s)'
                    % (origin, proc.returncode, proc.stdout, proc.stderr))
    return path


@pytest.fixture
def rkt_fetch(rkt, tmp_path):
    """``rkt_fetch(image, name, keys)``: ``rkt fetch --full`` of the local file ``image``, whose
    signature is ``<image>.asc``, trusting for the image name ``name`` exactly ``keys``
    ({fingerprint: armored public key}). Returns the CompletedProcess (stdout: the image ID).

    A local file gets the same signature check as a download (measured: a changed image, another
    key, a missing .asc all exit 254), so no registry is needed. Each call gets its own store and
    configuration directories; nothing from /etc/rkt or ~/.config/rkt takes part.
    """
    runs = itertools.count()

    def fetch(image, name, keys):
        run = tmp_path / ('rkt-%d' % next(runs))
        prefix = run / 'local' / 'trustedkeys' / 'prefix.d' / name
        prefix.mkdir(parents=True)
        (run / 'system').mkdir()
        (run / 'user').mkdir()
        for fingerprint, armored in keys.items():
            # rkt refuses a key file whose name is not the key's lowercase fingerprint.
            (prefix / fingerprint.lower()).write_text(armored)
        return subprocess.run([rkt, '--dir=%s' % (run / 'store'), '--local-config=%s' % (run / 'local'),
                               '--system-config=%s' % (run / 'system'), '--user-config=%s' % (run / 'user'),
                               '--insecure-options=none', 'fetch', '--full', str(image)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RKT_TIMEOUT,
                              check=False)

    return fetch


@pytest.fixture
def tiny_aci(tmp_path):
    """``tiny_aci(path, name, text)``: writes a small valid ACI named ``name`` whose one file
    holds ``text``; returns its image ID (``sha512-`` and all 128 hex digits; rkt prints 64)."""

    def build(path, name, text='hello'):
        rootfs = tmp_path / ('%s.rootfs' % os.path.basename(str(path)))
        (rootfs / 'bin').mkdir(parents=True)
        (rootfs / 'bin' / 'hello').write_text('#!/bin/sh\necho %s\n' % text)
        manifest = {'acKind': 'ImageManifest', 'acVersion': '0.8.11', 'name': name,
                    'labels': [{'name': 'version', 'value': '1'}, {'name': 'os', 'value': 'linux'},
                               {'name': 'arch', 'value': 'amd64'}],
                    'app': {'exec': ['/bin/hello'], 'user': '0', 'group': '0'}}
        image = aci.Image(acm.canonical(manifest), aci.TreeSource(str(rootfs)))
        with open(str(path), 'wb') as f:
            image_id, _size = aci.write_image(f, image.chunks())
        return image_id

    return build


@pytest.fixture
def ansible_adhoc():
    """``ansible_adhoc(module, module_args, cwd, *options)``: runs ``ansible localhost -m module -vvv`` from this
    checkout (temporary files below ``cwd``), as a user would; returns ``(rc, output)``, stderr included."""
    ansible = os.path.join(os.path.dirname(sys.executable), 'ansible')
    if not os.path.exists(ansible):
        pytest.skip('no ansible CLI next to %s' % sys.executable)

    def run(module, module_args, cwd, *options):
        env = dict(os.environ, NO_COLOR='1', ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'),
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ANSIBLE_LOCALHOST_WARNING='false',
                   ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_LOCAL_TEMP=os.path.join(cwd, 'lt'), ANSIBLE_REMOTE_TEMP=os.path.join(cwd, 'rt'))
        out = subprocess.run([ansible, 'localhost', '-m', module, '-a', json.dumps(module_args), '-vvv'] + list(options),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, check=False, cwd=cwd)
        return out.returncode, out.stdout.decode('utf-8', 'replace')

    return run


@pytest.fixture(scope='session')
def quick_key():
    """``quick_key(gpg, uid, algorithm)``: a sign-only key made by gpg itself, unprotected, for
    algorithms gpg_key refuses (nistp256, ed25519...); returns its fingerprint."""

    def make(gpg, uid, algorithm, expire='never'):
        rc, stderr = g._run(gpg, ['--passphrase', '', '--quick-gen-key', uid, algorithm, 'sign', expire])
        assert rc == 0, stderr
        return g.find_keys_by_uid(gpg, uid)[0]['fingerprint']

    return make


@pytest.fixture(params=['isal', 'zlib'])
def gzip_reader(request, monkeypatch):
    """Runs the test twice: gzip read with ISA-L (skipped without python-isal), then with zlib, as
    on a host without python-isal; each damage raises its own errors (IsalError or zlib.error)."""
    if request.param == 'isal' and not streams.HAS_ISAL:
        pytest.skip('python-isal is not installed')
    if request.param == 'zlib':
        monkeypatch.setattr(streams, 'HAS_ISAL', False)
    return request.param


@pytest.fixture
def damaged_gzip():
    """``damaged_gzip(data, how)``: gzip of ``data`` with a valid header, damaged in the middle:
    ``'deflate'`` turns the header of a deflate block into a block type deflate does not have,
    ``'truncated'`` cuts the file in two."""

    def damage(data, how):
        if how == 'truncated':
            whole = gzip.compress(data, mtime=0)
            return whole[:len(whole) // 2]
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        # The full flush ends the first half on a byte boundary, so the next block header is a whole byte.
        first = deflate.compress(data[:len(data) // 2]) + deflate.flush(zlib.Z_FULL_FLUSH)
        rest = deflate.compress(data[len(data) // 2:]) + deflate.flush()
        return (b'\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff' + first + b'\xff' + rest[1:]
                + struct.pack('<II', zlib.crc32(data), len(data)))

    return damage
