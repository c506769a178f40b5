# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's disk fills up while aci_build, aci_sign and aci_fetch write.

dest is on a 2 MiB tmpfs that a test fills to the last byte; each module must fail with the
host's words ("No space left on device") and the path, leave the previous image or signature
as it was and no temp file beside it. Needs root and mount (skipped with the reason otherwise).
"""

import errno
import os
import subprocess
import tempfile

import pytest

import figures
from ansible_collections.aci.registry.plugins.modules import aci_build, aci_fetch, aci_sign
# aci_fetch's unit-test registry, honest this time: aci_fetch needs something to download. pki,
# registry and signer are fixtures: pytest finds them here by name.
from plugins.modules.test_aci_fetch import pki, registry, signer  # noqa: F401  pylint: disable=unused-import

SECTION = 'faults'


@pytest.fixture
def small_disk():
    """A 2 MiB tmpfs, unmounted (and removed) whatever the test did."""
    path = tempfile.mkdtemp(prefix='aci-full-', dir='/tmp')
    done = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if done.returncode != 0:
        os.rmdir(path)
        pytest.skip('cannot mount a tmpfs to fill (needs root and mount): %s' % done.stdout.strip())
    try:
        yield path
    finally:
        subprocess.run(['umount', path], check=False)
        os.rmdir(path)


def fill(disk):
    """Write a filler file until the tmpfs refuses; bounded by its 2 MiB size."""
    chunk = b'\0' * 4096
    # Unbuffered: a buffered file would raise ENOSPC again when it is closed.
    fd = os.open(os.path.join(disk, 'filler'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _i in range(4 * 1024 * 1024 // len(chunk)):
            try:
                os.write(fd, chunk)
            except OSError as e:
                assert e.errno == errno.ENOSPC
                return
    finally:
        os.close(fd)
    raise AssertionError('%s never filled up' % disk)


def contents(disk):
    return sorted(name for name in os.listdir(disk) if name != 'filler')


def build_args(tmp_path, dest, text):
    rootfs = tmp_path / 'rootfs'
    (rootfs / 'bin').mkdir(parents=True, exist_ok=True)
    (rootfs / 'bin' / 'hello').write_text(text)
    return dict(rootfs=str(rootfs), dest=dest, name='localhost/full', labels=dict(version='v1', os='linux', arch='amd64'),
                exec=['/bin/hello'], user='0', group='0')


def assert_disk_full(result, path, disk, kept, case):
    msg = result['msg']
    ok = 'No space left' in msg and path in msg and 'Traceback' not in msg
    figures.record(SECTION, 'disk full: %s' % case, 'clear error' if ok else 'unclear: %s' % msg[:120], ok=ok)
    assert 'No space left' in msg, msg
    assert path in msg, msg
    assert 'Traceback' not in msg
    # Only what was there before: no temp file, the previous file byte for byte.
    assert contents(disk) == sorted(kept), contents(disk)
    for name, data in kept.items():
        with open(os.path.join(disk, name), 'rb') as f:
            assert f.read() == data, '%s changed' % name


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def test_aci_build_on_a_full_disk(small_disk, tmp_path, run_module):
    dest = os.path.join(small_disk, 'full.aci')
    run_module(aci_build.main, build_args(tmp_path, dest, 'one\n'), expect_failure=False)
    before = read(dest)
    fill(small_disk)
    result = run_module(aci_build.main, build_args(tmp_path, dest, 'two\n'), expect_failure=True)
    assert_disk_full(result, dest, small_disk, {'full.aci': before}, 'aci_build')


def test_aci_sign_on_a_full_disk(small_disk, tmp_path, signer, run_module):  # noqa: F811
    image = str(tmp_path / 'full.aci')
    run_module(aci_build.main, build_args(tmp_path, image, 'one\n'), expect_failure=False)
    dest = os.path.join(small_disk, 'full.aci.asc')
    home = signer['gpg'].gnupghome
    run_module(aci_sign.main, dict(path=image, dest=dest, gnupghome=home, fingerprint=signer['fpr']),
               expect_failure=False)
    before = read(dest)
    # Another image: the kept signature no longer verifies it, so aci_sign must write a new one.
    run_module(aci_build.main, build_args(tmp_path, image, 'two\n'), expect_failure=False)
    fill(small_disk)
    result = run_module(aci_sign.main, dict(path=image, dest=dest, gnupghome=home, fingerprint=signer['fpr']),
                        expect_failure=True)
    assert_disk_full(result, dest, small_disk, {'full.aci.asc': before}, 'aci_sign')


def test_aci_fetch_on_a_full_disk(small_disk, registry, signer, run_module):  # noqa: F811
    dest = os.path.join(small_disk, 'image.aci')
    args = dict(name='localhost/app:v1', dest=dest, port=registry['port'], ca_path=str(registry['pki'] / 'ca.pem'),
                trusted_key=signer['pubkey'])
    run_module(aci_fetch.main, args, expect_failure=False)
    kept = {'image.aci': read(dest), 'image.aci.asc': read(dest + '.asc')}
    fill(small_disk)
    result = run_module(aci_fetch.main, dict(args, force=True), expect_failure=True)
    assert_disk_full(result, dest, small_disk, kept, 'aci_fetch')
