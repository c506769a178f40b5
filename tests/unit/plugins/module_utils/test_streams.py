# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/streams: compressions told by their first bytes, damaged streams told as AciError, hashing while reading."""

import bz2
import gzip
import hashlib
import io
import lzma
import tarfile
import zlib

import pytest

from ansible_collections.aci.registry.plugins.module_utils import streams

DATA = b''.join(b'line %d of a file that compresses well\n' % i for i in range(20000))


@pytest.mark.parametrize('compress, name', [
    (gzip.compress, 'gzip'), (bz2.compress, 'bzip2'), (lzma.compress, 'xz'), (bytes, None),
])
def test_detect_and_open_every_compression(tmp_path, gzip_reader, compress, name):
    packed = compress(DATA)
    assert streams.detect(packed[:8]) == name
    assert streams.detect(b'\x28\xb5\x2f\xfd' + b'\0' * 4) == 'zstd'
    with streams.open_stream(io.BytesIO(packed), name, 'the test stream') as stream:
        assert stream.read() == DATA
    path = tmp_path / 'packed'
    path.write_bytes(packed)
    with streams.open_stream(str(path), name or 'none', str(path), threaded=True) as stream:
        assert stream.read() == DATA


@pytest.mark.parametrize('how', ['deflate', 'truncated'])
def test_damaged_gzip_is_an_aci_error_naming_the_stream(gzip_reader, damaged_gzip, how):
    with pytest.raises(streams.AciError) as e:
        with streams.open_stream(io.BytesIO(damaged_gzip(DATA, how)), 'gzip', 'layer 2 (blobs/x)') as stream:
            stream.read()
    assert str(e.value).startswith('layer 2 (blobs/x) is damaged or truncated: ')
    if how == 'truncated':
        expected = EOFError
    else:
        expected = streams.isal_zlib.error if gzip_reader == 'isal' else zlib.error
    assert isinstance(e.value.__cause__, expected), repr(e.value.__cause__)


def test_damaged_xz_and_bzip2():
    for packed in (lzma.compress(DATA)[:5000], bz2.compress(DATA)[:5000]):
        with pytest.raises(streams.AciError, match='is damaged or truncated'):
            with streams.open_stream(io.BytesIO(packed), streams.detect(packed), 'x') as stream:
                stream.read()


@pytest.mark.skipif(streams.zstandard is not None, reason='zstandard is installed: zstd streams are read')
def test_zstd_without_zstandard_names_the_package():
    with pytest.raises(streams.AciError, match='x is zstd-compressed; install the Python package zstandard'):
        with streams.open_stream(io.BytesIO(b'\x28\xb5\x2f\xfd'), 'zstd', 'x'):
            pass


def test_hashing_counts_and_hashes_reads_and_readinto():
    hashing = streams.Hashing(io.BytesIO(DATA), 'sha256')
    assert hashing.read(10) == DATA[:10]
    buffer = bytearray(100)
    assert hashing.readinto(buffer) == 100 and bytes(buffer) == DATA[10:110]
    assert hashing.drain() == hashlib.sha256(DATA).hexdigest() and hashing.size == len(DATA)


def test_entry_from_a_tar_member():
    info = tarfile.TarInfo('dev/tty')
    info.type, info.mode, info.uid, info.mtime = tarfile.CHRTYPE, 0o20666, 7, 12.9
    info.devmajor, info.devminor, info.linkname = 5, 0, 'ignored'
    info.pax_headers = {'SCHILY.xattr.user.k': 'v', 'comment': 'not an xattr'}
    kind = streams.member_kind(info)
    entry = streams.Entry.from_member(info, 'rootfs/dev/tty', kind)
    assert (entry.kind, entry.mode, entry.uid, entry.mtime, entry.size) == (streams.CHARDEV, 0o666, 7, 12, 0)
    assert (entry.devmajor, entry.linkname, entry.xattrs) == (5, '', {'user.k': b'v'})
    info.type = tarfile.XHDTYPE
    assert streams.member_kind(info) is None
