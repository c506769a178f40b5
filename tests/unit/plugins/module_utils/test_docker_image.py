# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/docker_archive, docker_layers and docker_manifest: Docker archives and OCI layouts
built here, squashed and checked entry by entry.

No registry can be reached from the tests, so the archives are written with tarfile: the classic
``docker save`` layout, the Docker 25 one (blobs/sha256 + index.json + oci-layout) and an OCI
layout directory. The builders at the top are also used by tests/unit/plugins/modules/test_aci_from_docker.py.
"""

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile

import pytest

from ansible_collections.aci.registry.plugins.module_utils import aci
from ansible_collections.aci.registry.plugins.module_utils import docker_archive, docker_layers, docker_manifest, streams
from ansible_collections.aci.registry.plugins.module_utils.manifest import ManifestError

MTIME = 1700000000

# ---------------------------------------------------------------------------------------------
# Building archives


def f(name, data=b'', mode=0o644, uid=0, gid=0, xattrs=None):
    return dict(name=name, type=tarfile.REGTYPE, data=data, mode=mode, uid=uid, gid=gid, xattrs=xattrs)


def d(name, mode=0o755, uid=0, gid=0):
    return dict(name=name, type=tarfile.DIRTYPE, mode=mode, uid=uid, gid=gid)


def sym(name, target):
    return dict(name=name, type=tarfile.SYMTYPE, linkname=target, mode=0o777)


def hard(name, target):
    return dict(name=name, type=tarfile.LNKTYPE, linkname=target)


def whiteout(directory, name):
    return f('%s.wh.%s' % (directory + '/' if directory else '', name))


def opaque(directory):
    return f(directory + '/.wh..wh..opq')


def layer_tar(members):
    """A layer as Docker writes it: a PAX tar, xattrs as SCHILY.xattr records."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tar:
        for spec in members:
            info = tarfile.TarInfo(spec['name'])
            info.type = spec['type']
            info.mode = spec.get('mode', 0o644)
            info.uid, info.gid = spec.get('uid', 0), spec.get('gid', 0)
            info.mtime = MTIME
            info.linkname = spec.get('linkname', '')
            data = spec.get('data', b'')
            info.size = len(data) if spec['type'] == tarfile.REGTYPE else 0
            if spec.get('xattrs'):
                info.pax_headers = dict(('SCHILY.xattr.' + k, v) for k, v in spec['xattrs'].items())
            tar.addfile(info, io.BytesIO(data) if info.size else None)
    return buf.getvalue()


def sha256(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest()


class Img:
    """An image to save: layers (lists of member specs, or raw bytes), container config, tags."""

    def __init__(self, layers, config=None, tags=(), arch='arm64', variant='v8', os_name='linux', extra=None):
        self.layers = [layer if isinstance(layer, bytes) else layer_tar(layer) for layer in layers]
        self.config = config or {}
        self.tags = list(tags)
        self.platform = dict(os=os_name, architecture=arch)
        if variant:
            self.platform['variant'] = variant
        self.extra = extra or {}

    def config_bytes(self, diff_ids=None):
        document = dict(self.platform, config=self.config, created='2024-01-02T03:04:05.123456789Z',
                        author='Example Maintainers <ops@example.com>',
                        rootfs=dict(type='layers', diff_ids=diff_ids or [sha256(b) for b in self.layers]))
        document.update(self.extra)
        return json.dumps(document, sort_keys=True).encode()


def tar_files(path, files):
    """An outer archive holding ``files`` (name -> bytes, or ('symlink', target))."""
    with tarfile.open(str(path), 'w') as tar:
        for name in sorted(files):
            content = files[name]
            info = tarfile.TarInfo(name)
            info.mtime = MTIME
            if isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return path


def classic_files(images):
    """The members of a docker save archive before Docker 25: <id>/layer.tar, <hex>.json, manifest.json."""
    files, manifest, repositories = {}, [], {}
    for image in images:
        config = image.config_bytes()
        config_name = hashlib.sha256(config).hexdigest() + '.json'
        files[config_name] = config
        layer_names = []
        for number, blob in enumerate(image.layers):
            layer_id = hashlib.sha256(config + b'%d' % number).hexdigest()
            files[layer_id + '/VERSION'] = b'1.0'
            existing = [n for n in files if n.endswith('/layer.tar') and files[n] == blob]
            # docker save links a layer it already wrote instead of writing it again.
            files[layer_id + '/layer.tar'] = ('symlink', '../' + existing[0]) if existing else blob
            layer_names.append(layer_id + '/layer.tar')
        manifest.append({'Config': config_name, 'RepoTags': image.tags or None, 'Layers': layer_names})
        for tag in image.tags:
            repository, version = tag.rsplit(':', 1)
            repositories.setdefault(repository, {})[version] = layer_names[-1].split('/')[0] if layer_names else ''
    files['manifest.json'] = json.dumps(manifest).encode()
    files['repositories'] = json.dumps(repositories).encode()
    return files


def _descriptor(media_type, data, **extra):
    descriptor = {'mediaType': media_type, 'digest': sha256(data), 'size': len(data)}
    descriptor.update(extra)
    return descriptor


def oci_files(images, compress=True, nested=False, ref_names=None, containerd_names=True, skip_blobs=()):
    """An OCI image layout as files: blobs/sha256/..., index.json and oci-layout.

    ``nested`` puts every image behind one image index (a multi-platform image) plus an
    attestation manifest, as BuildKit does; ``skip_blobs`` leaves out the blobs of those images.
    """
    files = {'oci-layout': b'{"imageLayoutVersion":"1.0.0"}'}
    descriptors, docker_manifest = [], []

    def blob(data):
        files['blobs/sha256/' + hashlib.sha256(data).hexdigest()] = data
        return data

    for number, image in enumerate(images):
        layers = [gzip.compress(b, mtime=0) if compress else b for b in image.layers]
        config = image.config_bytes()
        manifest = json.dumps({
            'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': _descriptor('application/vnd.oci.image.config.v1+json', config),
            'layers': [_descriptor('application/vnd.oci.image.layer.v1.tar' + ('+gzip' if compress else ''), b)
                       for b in layers]}).encode()
        if number not in skip_blobs:
            blob(config)
            blob(manifest)
            for layer in layers:
                blob(layer)
        descriptors.append(_descriptor('application/vnd.oci.image.manifest.v1+json', manifest, platform=image.platform))
        docker_manifest.append({'Config': 'blobs/sha256/' + hashlib.sha256(config).hexdigest(),
                                'RepoTags': image.tags or None,
                                'Layers': ['blobs/sha256/' + hashlib.sha256(b).hexdigest() for b in layers]})
    if nested:
        attestation = blob(b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}')
        descriptors.append(_descriptor('application/vnd.oci.image.manifest.v1+json', attestation,
                                       platform={'os': 'unknown', 'architecture': 'unknown'},
                                       annotations={'vnd.docker.reference.type': 'attestation-manifest'}))
        index = blob(json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
                                 'manifests': descriptors}).encode())
        descriptors = [_descriptor('application/vnd.oci.image.index.v1+json', index)]
        images = images[:1]
    top = []
    for number, (descriptor, image) in enumerate(zip(descriptors, images)):
        annotations = {}
        for tag in image.tags:
            if containerd_names:
                annotations['io.containerd.image.name'] = tag
            annotations['org.opencontainers.image.ref.name'] = tag.rsplit(':', 1)[1]
        if ref_names is not None:
            annotations['org.opencontainers.image.ref.name'] = ref_names[number]
        top.append(dict(descriptor, annotations=annotations) if annotations else descriptor)
    files['index.json'] = json.dumps({'schemaVersion': 2, 'manifests': top}).encode()
    return files, docker_manifest


def docker25_files(images, compress=False):
    """What Docker 25+ docker save writes: an OCI layout plus manifest.json pointing into blobs/."""
    files, docker_manifest = oci_files(images, compress=compress)
    files['manifest.json'] = json.dumps(docker_manifest).encode()
    return files


def write_dir(directory, files):
    for name, content in files.items():
        path = os.path.join(str(directory), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as out:
            out.write(content)
    return directory


# ---------------------------------------------------------------------------------------------
# The sample image: what the issue asks to cover, in three layers

PASSWD = b'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n'

LAYERS = [
    [d('bin'), f('bin/busybox', b'busybox v1', 0o755), hard('bin/ls', 'bin/busybox'), sym('bin/sh', 'busybox'),
     d('etc'), f('etc/passwd', PASSWD), f('etc/motd', b'hello\n'), f('etc/removed.conf', b'gone'),
     sym('etc/motd.link', 'motd'), d('var'), d('var/cache'), f('var/cache/a', b'a'), d('var/cache/keep'),
     f('var/cache/keep/b', b'b'), d('opt'), d('opt/old'), f('opt/old/file', b'old'), d('srv'), f('srv/x', b'x'),
     d('usr'), d('usr/lib'), sym('lib', 'usr/lib'), d('usr/bin'), d('data', 0o700, 1000, 1000)],
    [whiteout('etc', 'removed.conf'), whiteout('opt', 'old'), d('var/cache', 0o750), f('var/cache/c', b'c'),
     opaque('var/cache'), f('etc/motd', b'hello v2\n', 0o600, 1000, 1000), d('usr/bin'),
     f('usr/bin/app', b'#!/bin/sh\necho app\n', 0o755), hard('usr/bin/app-link', 'usr/bin/app')],
    [f('bin/busybox', b'busybox v2', 0o755), f('srv', b'now a file'), f('lib/libfoo.so', b'ELF', 0o755),
     f('usr/bin/ping', b'ping', 0o4755, xattrs={'security.capability': 'cap', 'user.origin': 'layer3'}),
     dict(name='dev-null', type=tarfile.CHRTYPE, mode=0o666)],
]

CONFIG = {
    'Entrypoint': ['/usr/bin/app'],
    'Cmd': ['--listen', '0.0.0.0:8080'],
    'Env': ['PATH=/usr/local/bin:/usr/bin:/bin', 'APP_MODE=production', 'EMPTY='],
    'User': '1000:1000',
    'WorkingDir': '/opt',
    'ExposedPorts': {'8080/tcp': {}, '53/udp': {}, '9000-9002/tcp': {}},
    'Volumes': {'/data': {}, '/var/lib/app': {}},
    'Labels': {'org.opencontainers.image.source': 'https://example.com/app', 'Vendor': 'Example',
               'homepage': 'not a url', 'maintainer': 'ops@example.com'},
}


def sample(tags=('example.com/team/app:1.2.3',), **kwargs):
    return Img(LAYERS, dict(CONFIG), tags, **kwargs)


def convert(src, name='registry.example.com/mirror/app', tag=None, version=None, platform=None):
    """``(manifest, warnings, {name: (Entry, data)})`` of the ACI made from ``src``."""
    with docker_archive.open_image(str(src), tag, platform) as image:
        source = docker_layers.LayerSource(image)
        manifest, warnings = docker_manifest.image_manifest(image, source, name, version)
        built = aci.Image(manifest, source)
        data = b''.join(built.chunks())
    return manifest, warnings, read_tar(data), data


def read_tar(data):
    entries = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            assert member.name not in entries, 'duplicate entry %s' % member.name
            content = tar.extractfile(member).read() if member.isreg() else None
            entries[member.name] = (member, content)
    return entries


@pytest.fixture
def classic(tmp_path):
    return tar_files(tmp_path / 'app.tar', classic_files([sample()]))


# ---------------------------------------------------------------------------------------------
# The root filesystem


def test_rootfs_matches_the_layers(classic):
    dummy, dummy, entries, dummy = convert(classic)
    names = set(entries)
    # whiteouts: a file, a directory with its content, an opaque directory's lower content
    for gone in ('rootfs/etc/removed.conf', 'rootfs/opt/old', 'rootfs/opt/old/file', 'rootfs/var/cache/a',
                 'rootfs/var/cache/keep', 'rootfs/var/cache/keep/b', 'rootfs/srv/x'):
        assert gone not in names, gone
    assert not any('.wh.' in n for n in names), 'whiteout markers never reach the image'
    assert entries['rootfs/var/cache/c'][1] == b'c', 'the opaque layer keeps its own files'
    assert stat.S_IMODE(entries['rootfs/var/cache'][0].mode) == 0o750
    assert entries['rootfs/opt'][0].isdir()
    # overwritten file: content, mode and owner of the top layer
    motd = entries['rootfs/etc/motd'][0]
    assert entries['rootfs/etc/motd'][1] == b'hello v2\n'
    assert (stat.S_IMODE(motd.mode), motd.uid, motd.gid) == (0o600, 1000, 1000)
    # symlinks
    assert entries['rootfs/etc/motd.link'][0].issym() and entries['rootfs/etc/motd.link'][0].linkname == 'motd'
    assert entries['rootfs/bin/sh'][0].linkname == 'busybox'
    assert entries['rootfs/lib'][0].issym() and entries['rootfs/lib'][0].linkname == 'usr/lib'
    # a file written below a symlinked directory lands where the link points, as Docker extracts it
    assert entries['rootfs/usr/lib/libfoo.so'][1] == b'ELF' and 'rootfs/lib/libfoo.so' not in names
    # a directory replaced by a file
    assert entries['rootfs/srv'][0].isfile() and entries['rootfs/srv'][1] == b'now a file'
    # hard links: kept as links, and an alias keeps the old content when its first name is replaced
    app_link = entries['rootfs/usr/bin/app-link'][0]
    assert app_link.islnk() and app_link.linkname == 'rootfs/usr/bin/app'
    assert entries['rootfs/usr/bin/app'][1] == b'#!/bin/sh\necho app\n'
    assert entries['rootfs/bin/busybox'][1] == b'busybox v2'
    assert entries['rootfs/bin/ls'][1] == b'busybox v1' and entries['rootfs/bin/ls'][0].isfile()
    # modes, owners, xattrs, devices
    ping = entries['rootfs/usr/bin/ping'][0]
    assert stat.S_IMODE(ping.mode) == 0o4755
    assert ping.pax_headers['SCHILY.xattr.security.capability'] == 'cap'
    assert ping.pax_headers['SCHILY.xattr.user.origin'] == 'layer3'
    data = entries['rootfs/data'][0]
    assert (stat.S_IMODE(data.mode), data.uid, data.gid) == (0o700, 1000, 1000)
    assert entries['rootfs/dev-null'][0].ischr()
    assert all(m.mtime == MTIME for n, (m, c) in entries.items() if n not in ('manifest', 'rootfs'))


def test_entry_order_directories_first_then_files_by_layer(classic):
    dummy, dummy, entries, dummy = convert(classic)
    names = list(entries)
    assert names[:2] == ['manifest', 'rootfs']
    files = [n for n in names[2:] if entries[n][0].isfile() or entries[n][0].islnk()]
    dataless = [n for n in names[2:] if n not in files]
    assert names[2:] == dataless + files
    assert dataless == sorted(dataless, key=lambda n: n.split('/'))
    assert files.index('rootfs/bin/ls') < files.index('rootfs/usr/bin/app') < files.index('rootfs/bin/busybox')


def test_result_passes_actool_and_aci_checks(tmp_path, classic, actool_validate):
    dummy, dummy, dummy, data = convert(classic)
    out = tmp_path / 'app.aci'
    out.write_bytes(data)
    actool_validate(out)
    info = aci.inspect_aci(str(out))
    assert info.has_rootfs_entry and not info.warnings


def test_same_archive_same_bytes(tmp_path, classic):
    first = convert(classic)[3]
    again = tar_files(tmp_path / 'again.tar', classic_files([sample()]))
    assert convert(again)[3] == first


def test_owner_root(classic):
    with docker_archive.open_image(str(classic)) as image:
        source = docker_layers.LayerSource(image)
        assert all(e.uid == 0 and e.gid == 0 for e in source.entries(owner_root=True))


def test_nothing_is_written_to_disk(tmp_path, classic, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path / 'no-such-dir'))
    before = sorted(os.listdir(str(tmp_path)))
    convert(classic)
    assert sorted(os.listdir(str(tmp_path))) == before


# ---------------------------------------------------------------------------------------------
# The manifest


def test_manifest_fields(classic, actool):
    manifest, warnings, dummy, dummy = convert(classic)
    annotations = dict((a['name'], a['value']) for a in manifest['annotations'])
    assert manifest['name'] == 'registry.example.com/mirror/app'
    assert manifest['labels'] == [{'name': 'version', 'value': '1.2.3'}, {'name': 'os', 'value': 'linux'},
                                  {'name': 'arch', 'value': 'aarch64'}]
    app = manifest['app']
    assert app['exec'] == ['/usr/bin/app', '--listen', '0.0.0.0:8080']
    assert (app['user'], app['group'], app['workingDirectory']) == ('1000', '1000', '/opt')
    assert app['environment'] == [{'name': 'PATH', 'value': '/usr/local/bin:/usr/bin:/bin'},
                                  {'name': 'APP_MODE', 'value': 'production'}, {'name': 'EMPTY', 'value': ''}]
    assert app['ports'] == [{'name': '53-udp', 'protocol': 'udp', 'port': 53},
                            {'name': '8080-tcp', 'protocol': 'tcp', 'port': 8080},
                            {'name': '9000-9002-tcp', 'protocol': 'tcp', 'port': 9000, 'count': 3}]
    assert app['mountPoints'] == [{'name': 'volume-data', 'path': '/data'},
                                  {'name': 'volume-var-lib-app', 'path': '/var/lib/app'}]
    assert annotations['created'] == '2024-01-02T03:04:05.123456789Z'
    assert annotations['authors'] == 'Example Maintainers <ops@example.com>'
    assert annotations['appc.io/docker/originalname'] == 'example.com/team/app:1.2.3'
    assert annotations['appc.io/docker/registryurl'] == 'example.com'
    assert annotations['appc.io/docker/repository'] == 'team/app'
    assert annotations['appc.io/docker/tag'] == '1.2.3'
    assert annotations['appc.io/docker/imageid'].startswith('sha256:')
    assert annotations['appc.io/docker/entrypoint'] == '["/usr/bin/app"]'
    assert annotations['appc.io/docker/cmd'] == '["--listen","0.0.0.0:8080"]'
    # labels: valid AC Identifiers kept, others sanitised, refused ones skipped with the reason
    assert annotations['org.opencontainers.image.source'] == 'https://example.com/app'
    assert annotations['maintainer'] == 'ops@example.com'
    assert annotations['vendor'] == 'Example' and 'Vendor' not in annotations
    assert 'homepage' not in annotations
    assert "Docker label 'Vendor' kept as annotation vendor (annotation names are AC Identifiers)" in warnings
    assert any(w.startswith('Docker label homepage skipped: "not a url" is not allowed') for w in warnings), warnings


def test_manifest_mtime_is_the_creation_time(classic):
    entries = convert(classic)[2]
    assert entries['manifest'][0].mtime == 1704164645


@pytest.mark.parametrize('user, expected, warned', [
    ('', ('0', '0'), False),
    ('1000:1000', ('1000', '1000'), False),
    ('app', ('app', '1001'), False),        # primary group from the image's /etc/passwd
    ('1000', ('1000', '1001'), False),
    ('2000', ('2000', '0'), False),         # not listed: gid 0, as Docker runs it
    ('app:staff', ('app', 'staff'), False),
    ('nobody', ('nobody', '0'), True),
])
def test_user_and_group(tmp_path, user, expected, warned):
    config = dict(CONFIG, User=user)
    archive = tar_files(tmp_path / 'a.tar', classic_files([Img(LAYERS, config, ['app:1'])]))
    manifest, warnings, dummy, dummy = convert(archive)
    assert (manifest['app']['user'], manifest['app']['group']) == expected
    assert any('is not in the image\'s /etc/passwd' in w for w in warnings) == warned


@pytest.mark.parametrize('entrypoint, cmd, expected, warning', [
    (None, ['sh', '-c', 'echo hi'], ['/bin/sh', '-c', 'echo hi'], None),   # found along PATH, through symlinks
    (['busybox'], ['ls'], ['/bin/busybox', 'ls'], None),
    (['./run'], None, ['/opt/run'], None),                                   # relative to the working directory
    (['nothere'], None, ['nothere'], 'the command nothere is not found along PATH'),
    (['/usr/bin/missing'], None, ['/usr/bin/missing'], 'the command /usr/bin/missing is not a file in the image'),
])
def test_exec(tmp_path, entrypoint, cmd, expected, warning):
    config = dict(CONFIG, Entrypoint=entrypoint, Cmd=cmd, Env=['PATH=/usr/local/bin:/bin'])
    archive = tar_files(tmp_path / 'a.tar', classic_files([Img(LAYERS, config, ['app:1'])]))
    manifest, warnings, dummy, dummy = convert(archive)
    assert manifest['app']['exec'] == expected
    assert (warning is None) == (not any(w.startswith(warning or '-') for w in warnings)), warnings


def test_no_command_means_no_app(tmp_path, actool_validate):
    archive = tar_files(tmp_path / 'base.tar', classic_files([Img([[f('etc/os-release', b'ID=x\n')]], {}, ['base:3'])]))
    manifest, warnings, dummy, data = convert(archive)
    assert 'app' not in manifest
    assert 'the image has no Entrypoint or Cmd; the ACI has no app, as a base image would' in warnings
    out = tmp_path / 'base.aci'
    out.write_bytes(data)
    actool_validate(out)


@pytest.mark.parametrize('arch, variant, expected', [
    ('amd64', None, 'amd64'), ('x86_64', None, 'amd64'), ('arm64', 'v8', 'aarch64'), ('arm64', None, 'aarch64'),
    ('arm', 'v7', 'armv7l'), ('arm', 'v6', 'armv6l'), ('arm', None, 'armv7l'), ('386', None, 'i386'),
    ('ppc64le', None, 'ppc64le'), ('s390x', None, 's390x'),
])
def test_appc_os_arch(arch, variant, expected):
    assert docker_manifest.appc_os_arch('linux', arch, variant) == ('linux', expected)


@pytest.mark.parametrize('os_name, arch, variant, words', [
    ('windows', 'amd64', None, "os 'windows' cannot become an ACI"),
    ('linux', 'riscv64', None, 'architecture riscv64 has no appc name; appc knows amd64'),
    ('linux', 'arm', 'v5', 'architecture arm/v5 has no appc name'),
])
def test_appc_os_arch_refuses(os_name, arch, variant, words):
    with pytest.raises(aci.AciError) as e:
        docker_manifest.appc_os_arch(os_name, arch, variant)
    assert words in str(e.value)


def test_version_from_tag_option_and_default(tmp_path):
    archive = tar_files(tmp_path / 'a.tar', classic_files([sample(tags=('app:1.0', 'app:latest'))]))
    assert convert(archive)[0]['labels'][0] == {'name': 'version', 'value': '1.0'}
    assert convert(archive, tag='app:latest')[0]['labels'][0] == {'name': 'version', 'value': 'latest'}
    assert convert(archive, version='1.0.1')[0]['labels'][0] == {'name': 'version', 'value': '1.0.1'}
    untagged = tar_files(tmp_path / 'b.tar', classic_files([sample(tags=())]))
    manifest = convert(untagged)[0]
    assert manifest['labels'][0] == {'name': 'version', 'value': 'latest'}
    assert not any(a['name'].startswith('appc.io/docker/tag') for a in manifest['annotations'])


def test_a_bad_name_is_a_manifest_error(classic):
    with pytest.raises(ManifestError) as e:
        convert(classic, name='Not/An/Identifier')
    assert e.value.errors[0].startswith('name: "Not/An/Identifier" is not an AC Identifier')


@pytest.mark.parametrize('ref, expected', [
    ('busybox', ('docker.io', 'library/busybox', None)),
    ('busybox:1.36', ('docker.io', 'library/busybox', '1.36')),
    ('docker.io/library/busybox:1.36', ('docker.io', 'library/busybox', '1.36')),
    ('index.docker.io/team/app:2', ('docker.io', 'team/app', '2')),
    ('localhost:5000/app:dev', ('localhost:5000', 'app', 'dev')),
    ('quay.io/coreos/etcd:v3.5.0@sha256:' + '0' * 64, ('quay.io', 'coreos/etcd', 'v3.5.0')),
])
def test_parse_reference(ref, expected):
    assert docker_archive.parse_reference(ref) == expected


def test_sanitizers():
    assert docker_manifest.sanitize_ac_identifier('Com.Example..Bad Key!') == 'com.example.bad-key'
    assert docker_manifest.sanitize_ac_identifier('--') == ''
    assert docker_manifest.sanitize_ac_name('/Var/Lib/App_Data') == 'var-lib-app-data'


# ---------------------------------------------------------------------------------------------
# Other layouts


def test_docker25_archive_gives_the_same_image(tmp_path, classic):
    expected = convert(classic)
    docker25 = tar_files(tmp_path / 'd25.tar', docker25_files([sample()]))
    with docker_archive.open_image(str(docker25)) as image:
        assert image.format == 'docker-archive'
        assert all(layer.path.startswith('blobs/sha256/') and layer.digest for layer in image.layers)
    got = convert(docker25)
    assert got[0] == expected[0] and got[3] == expected[3], 'same config and layer content: the same ACI'


def test_docker25_archive_with_gzip_layers(tmp_path, classic):
    docker25 = tar_files(tmp_path / 'd25.tar', docker25_files([sample()], compress=True))
    assert convert(docker25)[3] == convert(classic)[3]


def test_oci_layout_directory(tmp_path, classic, actool_validate):
    files, dummy = oci_files([sample()], containerd_names=False)
    layout = write_dir(tmp_path / 'layout', files)
    manifest, dummy, entries, data = convert(layout, tag='1.2.3')
    classic_manifest, dummy, classic_entries, dummy = convert(classic)
    assert set(entries) == set(classic_entries)
    assert all(entries[n][1] == classic_entries[n][1] for n in entries if n != 'manifest')
    assert manifest['app'] == classic_manifest['app'] and manifest['labels'] == classic_manifest['labels']
    annotations = dict((a['name'], a['value']) for a in manifest['annotations'])
    assert annotations['appc.io/docker/originalname'] == '1.2.3' and 'appc.io/docker/repository' not in annotations
    out = tmp_path / 'oci.aci'
    out.write_bytes(data)
    actool_validate(out)


def test_oci_layout_platforms(tmp_path):
    images = [sample(arch='amd64', variant=None), sample(arch='arm', variant='v7')]
    layout = write_dir(tmp_path / 'multi', oci_files(images, nested=True)[0])
    with pytest.raises(aci.AciError) as e:
        convert(layout)
    assert 'holds the image for several platforms (linux/amd64, linux/arm/v7); choose one with platform' in str(e.value)
    assert convert(layout, platform='linux/arm/v7')[0]['labels'][2] == {'name': 'arch', 'value': 'armv7l'}
    assert convert(layout, platform='linux/x86_64')[0]['labels'][2] == {'name': 'arch', 'value': 'amd64'}
    with pytest.raises(aci.AciError) as e:
        convert(layout, platform='linux/s390x')
    assert 'no image in the index is present for linux/s390x (present: linux/amd64, linux/arm/v7)' in str(e.value)
    # docker save of a multi-platform image keeps the index but the blobs of one platform only
    one = write_dir(tmp_path / 'one', oci_files(images, nested=True, skip_blobs=(0,))[0])
    assert convert(one)[0]['labels'][2] == {'name': 'arch', 'value': 'armv7l'}


def test_platform_checked_against_a_single_image(classic):
    with pytest.raises(aci.AciError) as e:
        convert(classic, platform='linux/amd64')
    assert 'the image is for linux/arm64/v8, not linux/amd64' in str(e.value)
    assert convert(classic, platform='linux/arm64')[0]['labels'][2]['value'] == 'aarch64'


def test_empty_and_compressed_layers(tmp_path):
    layers = [b'', gzip.compress(layer_tar([f('a', b'A')]), mtime=0), layer_tar([f('b', b'B')])]
    image = Img(layers, {'Cmd': ['/a']}, ['x:1'])
    image.config_bytes = lambda: Img.config_bytes(image, [sha256(b''), sha256(layer_tar([f('a', b'A')])),
                                                          sha256(layer_tar([f('b', b'B')]))])
    archive = tar_files(tmp_path / 'a.tar', classic_files([image]))
    entries = convert(archive)[2]
    assert (entries['rootfs/a'][1], entries['rootfs/b'][1]) == (b'A', b'B')


# ---------------------------------------------------------------------------------------------
# Choosing the image


@pytest.fixture
def several(tmp_path):
    images = [sample(tags=('app:1', 'example.com/app:1')), Img([[f('x')]], {'Cmd': ['/x']}, ['busybox:latest']),
              Img([[f('y')]], {'Cmd': ['/y']}, ['other.io/app:1'])]
    return tar_files(tmp_path / 'several.tar', classic_files(images))


@pytest.mark.parametrize('tag, expected', [
    ('busybox', 'busybox:latest'),
    ('docker.io/library/busybox:latest', 'busybox:latest'),
    ('library/app:1', 'app:1'),
    ('other.io/app:1', 'other.io/app:1'),
])
def test_tag_chooses(several, tag, expected):
    with docker_archive.open_image(str(several), tag) as image:
        assert image.reference == expected


@pytest.mark.parametrize('tag, words', [
    (None, 'holds 3 images (app:1, example.com/app:1; busybox:latest; other.io/app:1); choose one with tag'),
    ('app:2', 'tag app:2 is not in'),
    ('nginx', 'tag nginx is not in'),
])
def test_tag_errors(several, tag, words):
    with pytest.raises(aci.AciError) as e:
        docker_archive.open_image(str(several), tag)
    assert words in str(e.value)


def test_ambiguous_tag(tmp_path):
    files, dummy = oci_files([sample(tags=('a:1',)), sample(tags=('b:1',))], containerd_names=False)
    layout = write_dir(tmp_path / 'l', files)
    with pytest.raises(aci.AciError) as e:
        docker_archive.open_image(str(layout), '1')
    assert 'tag 1 is ambiguous' in str(e.value) and 'matches 2 images' in str(e.value)


# ---------------------------------------------------------------------------------------------
# Bad archives


def _bad_layer(members):
    return Img([members], {'Cmd': ['/x']}, ['bad:1'])


@pytest.mark.parametrize('case, words', [
    ('no-manifest', 'has no manifest.json (docker save) and no index.json (OCI image layout)'),
    ('missing-layer', 'is missing from the archive'),
    ('dotdot-layer', "contains \"..\"; a layer must not reach outside the image"),
    ('absolute-layer', "'/etc/evil' is an absolute path; layer entries must be relative"),
    ('dotdot-manifest', "'../../etc/passwd' points outside the image archive"),
    ('bad-diff-id', 'does not match its diff_id sha256:'),
    ('bad-config-digest', 'does not match its digest'),
    ('dangling-hardlink', 'hard link b points to nowhere, which is no file of this layer'),
    ('through-a-file', '/f/x is below /f, which is not a directory'),
    ('not-json', 'manifest.json is not valid JSON'),
    ('not-a-tar', 'is neither a directory nor a readable tar archive'),
    ('layer-not-a-tar', 'is not a readable tar'),
    ('truncated-gzip', 'is damaged'),
    ('count-mismatch', 'the image config lists 2 layers (rootfs.diff_ids) but the archive gives 1'),
    ('missing', 'does not exist'),
])
def test_bad_archives(tmp_path, case, words):
    path = tmp_path / 'bad.tar'
    files = classic_files([_bad_layer([f('ok', b'ok')])])
    manifest = json.loads(files['manifest.json'])
    layer_name = manifest[0]['Layers'][0]
    if case == 'no-manifest':
        del files['manifest.json']
    elif case == 'missing-layer':
        del files[layer_name]
    elif case in ('dotdot-layer', 'absolute-layer', 'dangling-hardlink', 'through-a-file', 'layer-not-a-tar',
                  'truncated-gzip'):
        blob = {'dotdot-layer': layer_tar([f('a/../../etc/evil')]), 'absolute-layer': layer_tar([f('/etc/evil')]),
                'dangling-hardlink': layer_tar([hard('b', 'nowhere')]),
                'through-a-file': layer_tar([f('f', b'file'), f('f/x')]),
                'layer-not-a-tar': b'this is not a tar archive' * 40,
                'truncated-gzip': gzip.compress(layer_tar([f('a', os.urandom(4096))]))[:-100]}[case]
        files = classic_files([Img([blob], {'Cmd': ['/x']}, ['bad:1'])])
    elif case == 'dotdot-manifest':
        manifest[0]['Layers'] = ['../../etc/passwd']
        files['manifest.json'] = json.dumps(manifest).encode()
    elif case == 'bad-diff-id':
        files[layer_name] = layer_tar([f('ok', b'altered')])
    elif case == 'bad-config-digest':
        files[manifest[0]['Config']] = files[manifest[0]['Config']].replace(b'"os"', b'"os" ')
    elif case == 'not-json':
        files['manifest.json'] = b'[{"Config":'
    elif case == 'count-mismatch':
        image = _bad_layer([f('ok', b'ok')])
        image.config_bytes = lambda: Img.config_bytes(image, [sha256(b'1'), sha256(b'2')])
        files = classic_files([image])
    if case == 'not-a-tar':
        path.write_bytes(b'<html>404</html>')
    elif case != 'missing':
        tar_files(path, files)
    with pytest.raises(aci.AciError) as e:
        convert(path)
    assert words in str(e.value), str(e.value)


def test_symlink_loops_and_escapes_in_the_archive(tmp_path):
    files = classic_files([_bad_layer([f('ok')])])
    layer_name = json.loads(files['manifest.json'])[0]['Layers'][0]
    files[layer_name] = ('symlink', '../../../outside.tar')
    with pytest.raises(aci.AciError) as e:
        convert(tar_files(tmp_path / 'a.tar', files))
    assert 'points outside the image archive' in str(e.value)
    layout = write_dir(tmp_path / 'dir', classic_files([_bad_layer([f('ok')])]))
    os.unlink(str(layout / layer_name))
    (tmp_path / 'secret').write_bytes(b'secret')
    os.symlink(str(tmp_path / 'secret'), str(layout / layer_name))
    with pytest.raises(aci.AciError) as e:
        convert(layout)
    assert 'is a symlink leading outside the directory' in str(e.value)


def test_symlink_loop_in_a_layer(tmp_path):
    layers = [[sym('a', 'b'), sym('b', 'a')], [f('a/x', b'x')]]
    archive = tar_files(tmp_path / 'a.tar', classic_files([Img(layers, {'Cmd': ['/x']}, ['l:1'])]))
    with pytest.raises(aci.AciError) as e:
        convert(archive)
    assert 'too many levels of symlinks' in str(e.value)


def test_unpacked_docker_save_directory(tmp_path, classic):
    layout = write_dir(tmp_path / 'unpacked', dict((k, v) for k, v in classic_files([sample()]).items()
                                                   if not isinstance(v, tuple)))
    assert convert(layout)[3] == convert(classic)[3]


# ---------------------------------------------------------------------------------------------
# Random layers against a reference: the layers applied to a real directory, as Docker does


def random_layers(seed, count=5, ops=12):
    """Layers of random files, directories, symlinks, hard links, whiteouts and opaque markers over
    a small set of paths. Like Docker's layer diffs, each layer names every parent directory of
    its entries, and puts nothing below one of its own files, links or whiteouts."""
    import random
    rng = random.Random(seed)
    names = ['a', 'b', 'c']
    paths = names + [x + '/' + y for x in names for y in names]
    paths += [p + '/' + z for p in paths[len(names):] for z in names]
    layers = []
    for dummy in range(count):
        members, used, non_dirs, files = [], set(), set(), []
        for dummy in range(ops):
            path = rng.choice(paths)
            parts = path.split('/')
            ancestors = ['/'.join(parts[:depth]) for depth in range(1, len(parts))]
            if path in used or any(a in non_dirs for a in ancestors):
                continue
            for parent in ancestors:
                if parent not in used:
                    used.add(parent)
                    members.append(d(parent, rng.choice((0o755, 0o750))))
            used.add(path)
            kind = rng.choice(('file', 'file', 'dir', 'symlink', 'hardlink', 'whiteout', 'opaque'))
            if kind in ('file', 'symlink', 'hardlink', 'whiteout'):
                non_dirs.add(path)
            if kind == 'file':
                members.append(f(path, os.urandom(rng.randrange(0, 64)), rng.choice((0o644, 0o755, 0o600))))
                files.append(path)
            elif kind == 'dir':
                members.append(d(path, rng.choice((0o755, 0o700))))
            elif kind == 'symlink':
                members.append(sym(path, rng.choice(names)))
            elif kind == 'hardlink' and files:
                members.append(hard(path, rng.choice(files)))
            elif kind == 'whiteout':
                members.append(whiteout(*(path.rsplit('/', 1) if '/' in path else ('', path))))
            elif kind == 'opaque':
                members.append(d(path))
                members.append(opaque(path))
        layers.append(members)
    return layers


def reference_rootfs(layers, root):
    """Applies the layers to ``root`` on disk the way Docker's UnpackLayer does: in stream order,
    a whiteout removing what lower layers left, an opaque marker sparing what its layer unpacked."""
    import shutil

    def remove(path):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)

    for blob in layers:
        unpacked = set()
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            for member in tar:
                directory, base = os.path.split(member.name)
                path = os.path.join(root, member.name)
                if base == '.wh..wh..opq':
                    for top, dirs, names in os.walk(os.path.join(root, directory)):
                        for name in names + list(dirs):
                            child = os.path.join(top, name)
                            if child not in unpacked:
                                remove(child)
                                if name in dirs:
                                    dirs.remove(name)
                elif base.startswith('.wh.'):
                    target = os.path.join(root, directory, base[4:])
                    if target not in unpacked:
                        remove(target)
                else:
                    if os.path.lexists(path) and not (member.isdir() and os.path.isdir(path) and not os.path.islink(path)):
                        remove(path)
                    tar.extract(member, root, set_attrs=member.isdir() or member.isfile())
                    unpacked.add(path)


def tree(root):
    found = {}
    for directory, dirs, names in os.walk(root):
        for name in dirs + names:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ('symlink', os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ('dir', stat.S_IMODE(st.st_mode))
            else:
                with open(path, 'rb') as content:
                    found[rel] = ('file', stat.S_IMODE(st.st_mode), content.read())
    return found


def aci_tree(entries):
    found = {}
    for name, (member, content) in entries.items():
        if not name.startswith('rootfs/'):
            continue
        rel = name[len('rootfs/'):]
        if member.issym():
            found[rel] = ('symlink', member.linkname)
        elif member.isdir():
            found[rel] = ('dir', stat.S_IMODE(member.mode))
        else:
            source = entries[member.linkname] if member.islnk() else (member, content)
            found[rel] = ('file', stat.S_IMODE(source[0].mode), source[1])
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason='the reference extraction sets modes a user could not undo')
@pytest.mark.parametrize('seed', range(40))
def test_random_layers_match_the_reference(tmp_path, seed):
    layers = [layer_tar(members) for members in random_layers(seed)]
    root = tmp_path / 'reference'
    root.mkdir()
    reference_rootfs(layers, str(root))
    archive = tar_files(tmp_path / 'r.tar', classic_files([Img(layers, {'Cmd': ['/x']}, ['r:1'])]))
    assert aci_tree(convert(archive)[2]) == tree(str(root))


# ---------------------------------------------------------------------------------------------
# Reading the layers again


def test_compressed_outer_archive(tmp_path, classic):
    files = classic_files([sample()])
    plain = tar_files(tmp_path / 'plain.tar', files)
    packed = tmp_path / 'app.tar.gz'
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert convert(packed)[3] == convert(classic)[3]


@pytest.mark.parametrize('layout', ['archive', 'directory'])
def test_input_changed_between_readings(tmp_path, layout):
    files = classic_files([sample()])
    src = tar_files(tmp_path / 'a.tar', files) if layout == 'archive' else write_dir(tmp_path / 'd', files)
    with docker_archive.open_image(str(src)) as image:
        source = docker_layers.LayerSource(image)
        changed = src if layout == 'archive' else src / image.layers[0].path
        os.utime(str(changed), ns=(0, 0))
        with pytest.raises(aci.AciError) as e:
            list(source.entries())
    assert 'changed while being converted; run again' in str(e.value)


@pytest.mark.skipif(streams.zstandard is not None, reason='zstandard is installed: zstd layers are read')
def test_zstd_layer_without_zstandard(tmp_path):
    image = Img([b'\x28\xb5\x2f\xfd' + b'\0' * 100], {'Cmd': ['/x']}, ['z:1'])
    with pytest.raises(aci.AciError) as e:
        convert(tar_files(tmp_path / 'z.tar', classic_files([image])))
    assert 'is zstd-compressed; install the Python package zstandard on the host to read it' in str(e.value)


@pytest.mark.parametrize('name', ['bin/.wh...', 'bin/.wh..', '.wh...'])
def test_a_whiteout_of_dot_or_dot_dot_is_refused(tmp_path, name):
    image = Img([[d('bin'), f('bin/app', b'app', 0o755)], [f(name)]], {'Cmd': ['/x']}, ['e:1'])
    src = tar_files(tmp_path / 'img.tar', classic_files([image]))
    with pytest.raises(aci.AciError, match='a whiteout names one entry of its directory'):
        convert(src)
