# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The streaming ACI writer and reader: archive rules, special files, reproducibility, image IDs."""

import bz2
import gzip
import hashlib
import io
import lzma
import os
import socket
import stat
import subprocess
import tarfile

import pytest

from ansible_collections.aci.registry.plugins.module_utils import aci, aci_compress, streams
from ansible_collections.aci.registry.plugins.module_utils import manifest as acm

MANIFEST = {
    'acKind': 'ImageManifest', 'acVersion': '0.8.11', 'name': 'example.com/test',
    'labels': [{'name': 'os', 'value': 'linux'}, {'name': 'arch', 'value': 'amd64'}],
    'app': {'exec': ['/bin/true'], 'user': '0', 'group': '0'},
}
MTIME = 1700000000
IS_ROOT = os.geteuid() == 0
DECOMPRESS = {'gzip': gzip.decompress, 'bzip2': bz2.decompress, 'xz': lzma.decompress, 'none': bytes}


def xattrs_supported(directory):
    probe = os.path.join(str(directory), '.xattr-probe')
    open(probe, 'w').close()
    try:
        os.setxattr(probe, 'user.probe', b'1')
        return True
    except OSError:
        return False
    finally:
        os.unlink(probe)


def set_tree_mtimes(root, mtime=MTIME):
    """Gives every path under ``root`` (itself included) a fixed mtime, deepest first."""
    for directory, dirs, names in os.walk(str(root), topdown=False):
        for name in names + dirs:
            os.utime(os.path.join(directory, name), ns=(mtime * 10 ** 9, mtime * 10 ** 9), follow_symlinks=False)
    os.utime(str(root), (mtime, mtime))


def make_tree(root):
    """A rootfs with one of each kind of file an image may hold."""
    root.mkdir()
    (root / 'bin').mkdir()
    (root / 'etc').mkdir()
    (root / 'tmp').mkdir()
    os.chmod(root / 'tmp', 0o1777)
    (root / 'srv').mkdir()
    os.chmod(root / 'srv', 0o2750)
    (root / 'etc' / 'hostname').write_bytes(b'image\n')
    (root / 'etc' / 'empty').write_bytes(b'')
    # Bigger than one read chunk and not a multiple of 512, so chunking and padding are exercised.
    (root / 'bin' / 'big').write_bytes(os.urandom(streams.CHUNK + 1234))
    (root / 'bin' / 'setuid').write_bytes(b'#!/bin/sh\n')
    os.chmod(root / 'bin' / 'setuid', 0o4755)
    os.link(root / 'bin' / 'setuid', root / 'bin' / 'hardlink-1')
    os.link(root / 'bin' / 'setuid', root / 'etc' / 'hardlink-2')
    os.symlink('../etc/hostname', root / 'bin' / 'relative-link')
    os.symlink('/etc/hostname', root / 'bin' / 'absolute-link')
    os.symlink('does-not-exist', root / 'bin' / 'dangling-link')
    os.mkfifo(root / 'etc' / 'fifo', 0o620)
    deep = root.joinpath(*['level-%02d-of-a-deep-path' % i for i in range(12)])
    deep.mkdir(parents=True)
    (deep / ('x' * 120)).write_bytes(b'long name')
    os.symlink('t' * 150, root / 'bin' / 'long-target')
    (root / 'etc' / 'café-ünïcode').write_bytes(b'utf-8 name')
    if IS_ROOT:
        os.mknod(root / 'etc' / 'null', 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.mknod(root / 'etc' / 'loop9', 0o660 | stat.S_IFBLK, os.makedev(7, 9))
        os.chown(root / 'etc' / 'hostname', 1234, 5678)
        os.chown(root / 'srv', 3000000, 3000001)  # beyond ustar's 7 octal digits: needs PAX
    set_tree_mtimes(root)
    os.utime(root / 'etc' / 'empty', (0, -86400))  # before the epoch: needs PAX too
    return root


def snapshot(root):
    """Everything an ACI must keep about a tree, by path relative to ``root``."""
    result = {}
    inodes = {}
    for directory, dirs, names in os.walk(str(root)):
        for name in dirs + names:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, str(root))
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            info = dict(kind=kind, mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid,
                        xattrs=dict((k, os.getxattr(path, k, follow_symlinks=False))
                                    for k in os.listxattr(path, follow_symlinks=False)))
            if not stat.S_ISLNK(st.st_mode):
                info['mtime'] = st.st_mtime_ns // 10 ** 9
            if stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    info['sha256'] = hashlib.sha256(f.read()).hexdigest()
            if stat.S_ISLNK(st.st_mode):
                info['target'] = os.readlink(path)
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                info['rdev'] = st.st_rdev
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                inodes.setdefault(st.st_ino, []).append(rel)
            result[rel] = info
    links = sorted(sorted(group) for group in inodes.values())
    return result, links


class ListSource:
    """A source made of ready ``Entry`` objects."""

    manifest = None

    def __init__(self, entries):
        self.items = entries
        self.warnings = []

    def entries(self, owner_root=False):
        return iter(self.items)


@pytest.fixture
def write(actool_validate):
    """``write(path, image, compression, level)``: writes the image and has actool validate it."""

    def write_and_validate(path, image, compression='gzip', level=None):
        with open(str(path), 'wb') as f:
            result = aci.write_image(f, image.chunks(), compression, level)
        actool_validate(path)  # every image a test writes, not only those the test looks at
        return result

    return write_and_validate


def tree_image(rootfs, manifest=None, owner_root=False):
    return aci.Image(acm.canonical(manifest or MANIFEST), aci.TreeSource(str(rootfs)), owner_root=owner_root)


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / 'rootfs')


@pytest.mark.parametrize('compression', ['gzip', 'none'])
def test_special_files_round_trip_through_gnu_tar(tmp_path, tree, actool_validate, compression, write):
    if xattrs_supported(tmp_path):
        os.setxattr(tree / 'bin' / 'big', 'user.checksum', b'\x00\xff binary \n value')
        os.setxattr(tree / 'tmp', 'user.note', 'dir xattr ü'.encode())
        set_tree_mtimes(tree)
        os.utime(tree / 'etc' / 'empty', (0, -86400))
    dest = tmp_path / 'image.aci'
    write(dest, tree_image(tree), compression)
    actool_validate(dest)
    out = tmp_path / 'out'
    out.mkdir()
    # GNU tar is an independent reader: what it extracts must be the tree we started from.
    subprocess.run(['tar', '--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', str(dest), '-C', str(out)],
                   check=True)
    assert sorted(os.listdir(out)) == ['manifest', 'rootfs']
    assert snapshot(out / 'rootfs') == snapshot(tree)
    assert acm.parse_manifest((out / 'manifest').read_bytes()) == MANIFEST


def test_xattrs_are_pax_records(tmp_path, tree, write):
    if not xattrs_supported(tmp_path):
        pytest.skip('the filesystem of %s does not support user.* xattrs' % tmp_path)
    os.setxattr(tree / 'etc' / 'hostname', 'user.b', b'\xff\x00raw')
    os.setxattr(tree / 'etc' / 'hostname', 'user.a', b'text')
    os.symlink('x', tree / 'no-xattrs-on-links')
    dest = tmp_path / 'image.aci'
    write(dest, tree_image(tree), 'none')
    with tarfile.open(str(dest)) as tar:
        member = tar.getmember('rootfs/etc/hostname')
        records = dict((k, v) for k, v in member.pax_headers.items() if k.startswith('SCHILY.xattr.'))
    assert records == {'SCHILY.xattr.user.a': 'text',
                       'SCHILY.xattr.user.b': b'\xff\x00raw'.decode('utf-8', 'surrogateescape')}
    entries = dict((e.name, e) for e in aci.iter_entries(str(dest)))
    assert entries['rootfs/etc/hostname'].xattrs == {'user.a': b'text', 'user.b': b'\xff\x00raw'}
    assert entries['rootfs/etc/empty'].xattrs is None


def test_security_selinux_is_left_out(monkeypatch, tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'')
    monkeypatch.setattr(os, 'listxattr', lambda p, follow_symlinks: ['security.selinux', 'user.keep'])
    monkeypatch.setattr(os, 'getxattr', lambda p, k, follow_symlinks: b'v')
    assert aci._read_xattrs(str(path), 'rootfs/f') == {'user.keep': b'v'}


def test_entries_are_sorted_manifest_first_and_relative(tmp_path, tree, write):
    dest = tmp_path / 'image.aci'
    write(dest, tree_image(tree), 'none')
    with tarfile.open(str(dest)) as tar:
        names = tar.getnames()
    assert names[:2] == ['manifest', 'rootfs']
    assert all(n.startswith('rootfs/') for n in names[2:])
    top = [n for n in names if n.count('/') == 1]
    assert top == sorted(top)
    children = [n.split('/')[2] for n in names if n.startswith('rootfs/bin/')]
    assert children == sorted(children)
    for name in names:
        assert not name.startswith('/') and '..' not in name.split('/')


def test_hard_links_are_tar_links_to_the_first_path(tmp_path, tree, write):
    dest = tmp_path / 'image.aci'
    write(dest, tree_image(tree), 'none')
    entries = dict((e.name, e) for e in aci.iter_entries(str(dest)))
    assert entries['rootfs/bin/hardlink-1'].kind == aci.FILE  # first in sorted order carries the data
    assert entries['rootfs/bin/setuid'].kind == aci.HARDLINK
    assert entries['rootfs/bin/setuid'].linkname == 'rootfs/bin/hardlink-1'
    assert entries['rootfs/etc/hardlink-2'].linkname == 'rootfs/bin/hardlink-1'


@pytest.mark.skipif(not IS_ROOT, reason='owners other than the test user need root')
def test_owners_and_owner_root(tmp_path, tree, write):
    for owner_root, expected in ((False, (1234, 5678)), (True, (0, 0))):
        dest = tmp_path / ('image-%s.aci' % owner_root)
        write(dest, tree_image(tree, owner_root=owner_root), 'none')
        entries = dict((e.name, e) for e in aci.iter_entries(str(dest)))
        assert (entries['rootfs/etc/hostname'].uid, entries['rootfs/etc/hostname'].gid) == expected
        assert (entries['rootfs/srv'].uid, entries['rootfs/srv'].gid) == ((0, 0) if owner_root else (3000000, 3000001))
        with tarfile.open(str(dest)) as tar:
            assert set(m.uname for m in tar) == {''}, 'owner names vary between hosts: only IDs are stored'


@pytest.mark.parametrize('compression', aci.COMPRESSIONS)
def test_same_inputs_give_the_same_bytes(tmp_path, tree, actool_validate, compression, write):
    first, second = tmp_path / 'first.aci', tmp_path / 'second.aci'
    one = write(first, tree_image(tree), compression)
    two = write(second, tree_image(tree), compression)
    assert one == two
    assert first.read_bytes() == second.read_bytes()
    actool_validate(first)
    assert aci.detect_compression(str(first)) == compression


@pytest.mark.skipif(not streams.HAS_ISAL, reason='python-isal is not installed')
def test_gzip_bytes_do_not_depend_on_the_number_of_threads(monkeypatch, tmp_path, tree, write):
    write(tmp_path / 'many.aci', tree_image(tree))
    monkeypatch.setattr(aci_compress, 'compression_threads', lambda: 1)
    write(tmp_path / 'one.aci', tree_image(tree))
    assert (tmp_path / 'many.aci').read_bytes() == (tmp_path / 'one.aci').read_bytes()


@pytest.mark.parametrize('compression', aci.COMPRESSIONS)
def test_image_id_is_the_sha512_of_the_uncompressed_tar(tmp_path, tree, compression, write):
    dest = tmp_path / 'image.aci'
    image_id, tar_size = write(dest, tree_image(tree), compression)
    tar = DECOMPRESS[compression](dest.read_bytes())
    assert image_id == 'sha512-' + hashlib.sha512(tar).hexdigest()
    assert tar_size == len(tar)
    assert aci.image_id(str(dest)) == image_id
    assert aci.inspect_aci(str(dest)).image_id == image_id


def test_gzip_header_has_no_time_and_no_name(tmp_path, tree, write):
    dest = tmp_path / 'image.aci'
    write(dest, tree_image(tree))
    header = dest.read_bytes()[:10]
    assert header[:3] == b'\x1f\x8b\x08'
    assert header[3] & 0x08 == 0, 'no FNAME'
    assert header[4:8] == b'\x00\x00\x00\x00', 'mtime 0'


def test_zlib_fallback_is_valid_and_reproducible(monkeypatch, tmp_path, tree, actool_validate, write):
    with_isal = write(tmp_path / 'isal.aci', tree_image(tree))
    monkeypatch.setattr(streams, 'HAS_ISAL', False)
    first = write(tmp_path / 'zlib-1.aci', tree_image(tree))
    monkeypatch.setattr(aci_compress, 'compression_threads', lambda: 1)
    write(tmp_path / 'zlib-2.aci', tree_image(tree))
    assert first == with_isal, 'the image ID does not depend on the compressor'
    assert (tmp_path / 'zlib-1.aci').read_bytes() == (tmp_path / 'zlib-2.aci').read_bytes(), \
        'nor do the bytes on the number of threads'
    assert gzip.decompress((tmp_path / 'zlib-1.aci').read_bytes()) == gzip.decompress((tmp_path / 'isal.aci').read_bytes())
    header = (tmp_path / 'zlib-1.aci').read_bytes()[:10]
    assert header[3] & 0x08 == 0 and header[4:8] == b'\x00\x00\x00\x00'
    actool_validate(tmp_path / 'zlib-1.aci')
    assert aci.compare_image(str(tmp_path / 'isal.aci'), tree_image(tree).chunks(), 'gzip')[0]


@pytest.mark.parametrize('compression, level', [('gzip', 0), ('gzip', 10), ('bzip2', 0), ('xz', 10)])
def test_level_out_of_range(compression, level):
    with pytest.raises(aci.AciError, match='compression_level %d is not allowed for %s' % (level, compression)):
        aci.check_level(compression, level)


def test_compare_image(tmp_path, tree, write):
    dest = tmp_path / 'image.aci'
    image_id, tar_size = write(dest, tree_image(tree))
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip') == (True, image_id, tar_size)
    # A different compression is a different file, even with the same content.
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'xz') == (False, image_id, tar_size)
    assert aci.compare_image(str(tmp_path / 'missing.aci'), tree_image(tree).chunks(), 'gzip')[0] is False
    (tree / 'etc' / 'hostname').write_bytes(b'other\n')
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip') == (False, None, None)
    same, new_id, dummy = aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip', exhaustive=True)
    assert not same and new_id.startswith('sha512-') and new_id != image_id


def test_compare_image_with_a_damaged_existing_file(tmp_path, tree, write):
    dest = tmp_path / 'image.aci'
    write(dest, tree_image(tree))
    good = dest.read_bytes()
    for damaged in (good[:len(good) // 2], good[:200] + b'\x00' * 64 + good[264:], good + b'trailing junk'):
        dest.write_bytes(damaged)
        assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip', exhaustive=True)[0] is False
    dest.write_bytes(b'not an image at all')
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip')[0] is False


def test_identity_is_recorded_and_spares_hashing_on_a_no_op(monkeypatch, tmp_path, tree, write):
    if not xattrs_supported(tmp_path):
        pytest.skip('the filesystem of %s does not support user.* xattrs' % tmp_path)
    dest = tmp_path / 'image.aci'
    image_id, tar_size = write(dest, tree_image(tree))
    content = dest.read_bytes()
    assert aci.recorded_identity(str(dest)) == (image_id, tar_size, hashlib.sha256(content).hexdigest(), len(content))

    def no_hashing():
        raise AssertionError('the tar was hashed although the record fits the file')

    monkeypatch.setattr(aci_compress, 'Digest', no_hashing)
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip') == (True, image_id, tar_size)
    # A change is still found by the comparison, the record notwithstanding.
    (tree / 'etc' / 'hostname').write_bytes(b'other\n')
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip') == (False, None, None)


def test_a_record_that_does_not_fit_the_bytes_is_not_believed(tmp_path, tree, write):
    if not xattrs_supported(tmp_path):
        pytest.skip('the filesystem of %s does not support user.* xattrs' % tmp_path)
    dest, other = tmp_path / 'image.aci', tmp_path / 'other.aci'
    write(dest, tree_image(tree))
    (tree / 'etc' / 'hostname').write_bytes(b'other\n')
    other_id, other_size = write(other, tree_image(tree))
    # Rewritten in place, the file keeps the xattr of the image it held before.
    with open(str(dest), 'r+b') as f:
        f.truncate(0)
        f.write(other.read_bytes())
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip') == (True, other_id, other_size)
    os.setxattr(str(dest), aci.IDENTITY_XATTR, b'sha512-junk 1 2 3')
    assert aci.recorded_identity(str(dest)) is None
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip') == (True, other_id, other_size)


def test_compression_level_alone_keeps_the_image(tmp_path, tree, write):
    dest = tmp_path / 'image.aci'
    write(dest, tree_image(tree), 'gzip', 1)
    assert aci.compare_image(str(dest), tree_image(tree).chunks(), 'gzip')[0]


def test_long_names_big_numbers_and_old_mtimes(tmp_path, actool_validate, write):
    entries = [
        aci.Entry('rootfs', aci.DIRECTORY, 0o755),
        aci.Entry('rootfs/' + 'd' * 200, aci.DIRECTORY, 0o700, uid=2 ** 31, gid=2 ** 22, mtime=-5),
        aci.Entry('rootfs/' + 'd' * 200 + '/' + 'f' * 200, aci.FILE, 0o600, size=3, data=b'abc', mtime=8 ** 11),
        aci.Entry('rootfs/link', aci.SYMLINK, 0o777, linkname='/' + 'l' * 300),
        aci.Entry('rootfs/' + 'p' * 90 + '/' + 'q' * 90, aci.FILE, 0o644, size=0, data=b''),  # ustar prefix split
        aci.Entry('rootfs/ünï', aci.FILE, 0o644, size=1, data=b'u', xattrs={'user.k': b'v'}),
    ]
    image = aci.Image(acm.canonical(MANIFEST), ListSource(entries))
    dest = tmp_path / 'image.aci'
    write(dest, image, 'none')
    actool_validate(dest)
    with tarfile.open(str(dest)) as tar:
        members = dict((m.name, m) for m in tar)
        assert tar.extractfile(members['rootfs/' + 'd' * 200 + '/' + 'f' * 200]).read() == b'abc'
    assert members['rootfs/' + 'd' * 200].uid == 2 ** 31
    assert members['rootfs/' + 'd' * 200].mtime == -5
    assert members['rootfs/' + 'd' * 200 + '/' + 'f' * 200].mtime == 8 ** 11
    assert members['rootfs/link'].linkname == '/' + 'l' * 300
    assert 'rootfs/' + 'p' * 90 + '/' + 'q' * 90 in members
    assert members['rootfs/ünï'].pax_headers['path'] == 'rootfs/ünï'


def test_manifest_entry_mtime_is_created_or_zero(tmp_path, tree, write):
    for created, mtime in ((None, 0), ('2020-02-02T02:02:02Z', 1580608922)):
        manifest = dict(MANIFEST, annotations=[{'name': 'created', 'value': created}]) if created else MANIFEST
        dest = tmp_path / 'image.aci'
        write(dest, tree_image(tree, manifest), 'none')
        with tarfile.open(str(dest)) as tar:
            assert tar.getmember('manifest').mtime == mtime


# ---------------------------------------------------------------------------------------------
# Bad trees: each a clear error


def test_rootfs_must_be_a_directory(tmp_path):
    with pytest.raises(aci.AciError, match='is not a directory'):
        aci.TreeSource(str(tmp_path / 'missing'))
    (tmp_path / 'file').write_bytes(b'')
    with pytest.raises(aci.AciError, match='is not a directory'):
        aci.open_source(rootfs=str(tmp_path / 'file'))


@pytest.mark.parametrize('layout, words', [
    ({'manifest': '{}', 'rootfs/': None, 'README': 'x'}, 'may hold only "manifest" and "rootfs"; also found: README'),
    ({'rootfs/': None}, 'has no "manifest" file'),
    ({'manifest': '{}'}, 'has no "rootfs" directory'),
    ({'manifest': '{}', 'rootfs': 'a file'}, 'has no "rootfs" directory'),
])
def test_bad_layouts(tmp_path, layout, words):
    src = tmp_path / 'src'
    src.mkdir()
    for name, content in layout.items():
        if name.endswith('/'):
            (src / name).mkdir()
        else:
            (src / name).write_text(content)
    with pytest.raises(aci.AciError) as info:
        aci.open_source(src=str(src))
    assert words in str(info.value)


def test_layout_manifest_must_be_json(tmp_path):
    src = tmp_path / 'src'
    (src / 'rootfs').mkdir(parents=True)
    (src / 'manifest').write_text('{"acKind": ')
    with pytest.raises(acm.ManifestError, match='manifest is not a valid appc ImageManifest: not valid JSON'):
        aci.open_source(src=str(src))


def _drain(image):
    for dummy in image.chunks():
        pass


def test_non_utf8_file_name(tmp_path):
    rootfs = tmp_path / 'rootfs'
    rootfs.mkdir()
    open(os.path.join(str(rootfs).encode(), b'bad-\xff-name'), 'wb').close()
    with pytest.raises(aci.AciError, match=r'file name rootfs/bad-.*is not valid UTF-8'):
        _drain(tree_image(rootfs))


def test_non_utf8_symlink_target(tmp_path):
    rootfs = tmp_path / 'rootfs'
    rootfs.mkdir()
    os.symlink(b'\xfe-target', os.path.join(str(rootfs).encode(), b'link'))
    with pytest.raises(aci.AciError, match='symlink target of rootfs/link is not valid UTF-8'):
        _drain(tree_image(rootfs))


def test_file_that_changes_while_archived(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'12345')
    shrunk = aci.Entry('rootfs/f', aci.FILE, size=10, path=str(path))
    with pytest.raises(aci.AciError, match='rootfs/f shrank while being archived'):
        _drain(aci.Image(acm.canonical(MANIFEST), ListSource([shrunk])))
    grown = aci.Entry('rootfs/f', aci.FILE, size=2, path=str(path))
    with pytest.raises(aci.AciError, match='rootfs/f grew while being archived'):
        _drain(aci.Image(acm.canonical(MANIFEST), ListSource([grown])))


def test_vanished_file_is_named(tmp_path):
    missing = aci.Entry('rootfs/gone', aci.FILE, size=1, path=str(tmp_path / 'gone'))
    with pytest.raises(aci.AciError, match='cannot read rootfs/gone: No such file'):
        _drain(aci.Image(acm.canonical(MANIFEST), ListSource([missing])))


def test_sockets_are_skipped_with_a_warning(tmp_path, actool_validate, write):
    rootfs = tmp_path / 'r'  # short: socket paths are limited to about 100 bytes
    rootfs.mkdir()
    (rootfs / 'keep').write_bytes(b'x')
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(rootfs / 'sock'))
        image = tree_image(rootfs)
        dest = tmp_path / 'image.aci'
        write(dest, image)
    finally:
        server.close()
    assert image.warnings == ['rootfs/sock: socket skipped (sockets cannot be stored in an image)']
    assert [e.name for e in aci.iter_entries(str(dest))] == ['manifest', 'rootfs', 'rootfs/keep']
    actool_validate(dest)


# ---------------------------------------------------------------------------------------------
# Reading existing images


def make_tar(path, members, compression='gzip'):
    """A tar at ``path`` from ``(name, type, content_or_linkname)`` tuples, made with Python's tarfile."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            if kind in (tarfile.LNKTYPE, tarfile.SYMTYPE):
                info.linkname = value
                tar.addfile(info)
            elif kind == tarfile.REGTYPE:
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
            else:
                tar.addfile(info)
    data = raw.getvalue()
    compress = {'gzip': gzip.compress, 'bzip2': bz2.compress, 'xz': lzma.compress, 'none': bytes}[compression]
    path.write_bytes(compress(data))
    return path


GOOD_MANIFEST = acm.canonical_json(MANIFEST)
REG, DIR, LNK, SYM = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.LNKTYPE, tarfile.SYMTYPE


@pytest.mark.parametrize('compression', aci.COMPRESSIONS)
def test_inspect_any_compression_with_dot_slash_names(tmp_path, compression):
    path = make_tar(tmp_path / 'x.aci', [('./', DIR, None), ('./rootfs', DIR, None), ('./rootfs/a', REG, b'a'),
                                         ('./rootfs/b', LNK, './rootfs/a'), ('./manifest', REG, GOOD_MANIFEST)],
                    compression)
    info = aci.inspect_aci(str(path))
    assert info.compression == compression
    assert info.manifest == MANIFEST and info.has_rootfs_entry and info.entries == 4
    assert info.image_id == 'sha512-' + hashlib.sha512(DECOMPRESS[compression](path.read_bytes())).hexdigest()
    names = [(e.name, e.linkname) for e in aci.iter_entries(str(path))]
    assert names == [('rootfs', ''), ('rootfs/a', ''), ('rootfs/b', 'rootfs/a'), ('manifest', '')]
    assert aci.read_manifest(str(path)) == MANIFEST


@pytest.mark.parametrize('members, words', [
    ([('manifest', REG, GOOD_MANIFEST), ('/rootfs/etc', DIR, None)], 'has an absolute path'),
    ([('manifest', REG, GOOD_MANIFEST), ('rootfs/../etc', DIR, None)], 'contains ".."'),
    ([('manifest', REG, GOOD_MANIFEST), ('etc/passwd', REG, b'x')], 'is outside rootfs'),
    ([('manifest', REG, GOOD_MANIFEST), ('manifest/x', REG, b'x')], 'is outside rootfs'),
    ([('manifest', REG, GOOD_MANIFEST), ('rootfs/a', REG, b''), ('rootfs/a', REG, b'')], 'appears twice'),
    ([('manifest', REG, GOOD_MANIFEST), ('manifest', REG, GOOD_MANIFEST)], 'appears twice'),
    ([('manifest', DIR, None), ('rootfs', DIR, None)], '"manifest" must be a regular file'),
    ([('manifest', REG, GOOD_MANIFEST), ('rootfs', REG, b'')], '"rootfs" must be a directory'),
    ([('manifest', REG, GOOD_MANIFEST), ('rootfs/a', LNK, '../etc/shadow')], 'contains ".."'),
    ([('manifest', REG, GOOD_MANIFEST), ('rootfs/a', LNK, 'rootfs/later'), ('rootfs/later', REG, b'')],
     'not an earlier file in rootfs'),
    ([('rootfs', DIR, None)], 'has no manifest entry'),
    ([('manifest', REG, GOOD_MANIFEST), ('rootfs/out', SYM, '/etc'), ('rootfs/out/cron.d/x', REG, b'x')],
     "goes through the symbolic link 'rootfs/out'"),
])
def test_bad_archives(tmp_path, members, words):
    path = make_tar(tmp_path / 'bad.aci', members)
    with pytest.raises(aci.AciError) as info:
        aci.inspect_aci(str(path))
    assert words in str(info.value)


def test_not_an_archive(tmp_path):
    path = tmp_path / 'junk.aci'
    path.write_bytes(b'<html>not found</html>')
    with pytest.raises(aci.AciError, match='is not an ACI: neither a tar nor gzip, bzip2 or xz compressed'):
        aci.inspect_aci(str(path))
    with pytest.raises(aci.AciError, match='does not exist'):
        aci.inspect_aci(str(tmp_path / 'missing.aci'))
    path.write_bytes(gzip.compress(b'\x00' * 100)[:30])
    with pytest.raises(aci.AciError):
        aci.inspect_aci(str(path))


def test_a_deeply_nested_manifest_is_refused_not_a_recursion_error(tmp_path):
    path = make_tar(tmp_path / 'x.aci', [('manifest', REG, b'[' * 100000 + b']' * 100000), ('rootfs', DIR, None)])
    with pytest.raises(acm.ManifestError, match='nested too deeply to be a manifest'):
        aci.inspect_aci(str(path))


def test_inspect_validates_the_manifest(tmp_path):
    bad = b'{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "Bad Name"}'
    path = make_tar(tmp_path / 'x.aci', [('manifest', REG, bad), ('rootfs', DIR, None)])
    with pytest.raises(acm.ManifestError, match=r'x.aci:manifest is not a valid .*name: "Bad Name"'):
        aci.inspect_aci(str(path))
    assert aci.inspect_aci(str(path), validate=False).manifest['name'] == 'Bad Name'


def test_rewrite_adds_a_missing_rootfs_entry(tmp_path, actool_validate, write):
    path = make_tar(tmp_path / 'x.aci', [('rootfs/a', REG, b'a'), ('manifest', REG, GOOD_MANIFEST)])
    source = aci.open_source(from_aci=str(path))
    dest = tmp_path / 'out.aci'
    write(dest, aci.Image(source.manifest, source))
    actool_validate(dest)
    assert [e.name for e in aci.iter_entries(str(dest))] == ['manifest', 'rootfs', 'rootfs/a']


def test_rewrite_of_our_own_image_keeps_every_entry(tmp_path, tree, actool_validate, write):
    first = tmp_path / 'first.aci'
    write(first, tree_image(tree))
    source = aci.open_source(from_aci=str(first))
    assert source.manifest == MANIFEST
    again = tmp_path / 'again.aci'
    write(again, aci.Image(acm.canonical(source.manifest), source))
    assert again.read_bytes() == first.read_bytes(), 'reading and writing back changes nothing'
    renamed = tmp_path / 'renamed.aci'
    write(renamed, aci.Image(acm.canonical(dict(MANIFEST, name='example.com/renamed')), source, owner_root=True))
    actool_validate(renamed)
    entries = list(aci.iter_entries(str(renamed)))
    assert [e.name for e in entries] == [e.name for e in aci.iter_entries(str(first))]
    assert all(e.uid == 0 and e.gid == 0 for e in entries)


def test_actool_built_image_can_be_read_and_renamed(tmp_path, tree, actool, actool_validate, write):
    layout = tmp_path / 'layout'
    layout.mkdir()
    (layout / 'manifest').write_bytes(GOOD_MANIFEST)
    os.rename(str(tree), str(layout / 'rootfs'))
    built = tmp_path / 'actool.aci'
    subprocess.run([actool, 'build', str(layout), str(built)], check=True)
    info = aci.inspect_aci(str(built))
    assert info.manifest == MANIFEST  # actool writes the manifest last: the whole image is read
    source = aci.open_source(from_aci=str(built))
    renamed = tmp_path / 'renamed.aci'
    write(renamed, aci.Image(acm.canonical(dict(MANIFEST, name='example.com/mirror/test')), source))
    actool_validate(renamed)
    names = [e.name for e in aci.iter_entries(str(renamed))]
    assert names[0] == 'manifest' and names.count('manifest') == 1
    assert sorted(names[1:]) == sorted(e.name for e in aci.iter_entries(str(built)) if e.name != 'manifest')


MINIMAL_MANIFEST = b'{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/x"}'


def test_a_tar_cut_inside_the_manifest_is_an_aci_error(tmp_path):
    # The manifest's data is read by inspect_aci itself, outside the loop over the members.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        info = tarfile.TarInfo('manifest')
        info.size = len(MINIMAL_MANIFEST) + 5000
        tar.addfile(info, io.BytesIO(MINIMAL_MANIFEST + b' ' * 5000))
    path = tmp_path / 'cut.aci'
    path.write_bytes(buf.getvalue()[:1536])
    with pytest.raises(aci.AciError, match='cut.aci is not a readable tar: unexpected end of data'):
        aci.inspect_aci(str(path), validate=False)
    with pytest.raises(aci.AciError, match='is not a readable tar'):
        aci.read_manifest(str(path))
