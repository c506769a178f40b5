"""Hostile image archives: crafted and randomly damaged ACIs and Docker archives, each refused.

Every input goes through the module a user would point at it (aci_build's ``from_aci``,
aci_from_docker) in a fresh directory that also holds the previous image: a refusal must name the
problem, leave the previous image as it was and leave no other file; an input that is accepted
must give an image the collection's own reader accepts. A crash is any exception out of the
module (a traceback for the user). Random inputs come from a fixed seed, so a failure repeats.
"""

import gzip
import json
import os
import pathlib
import random
import tarfile
import tempfile

import pytest

import figures
from plugins.docker_archives import archives
from plugins.module_utils.test_aci import make_tar

from ansible_collections.aci.registry.plugins.module_utils import aci
from ansible_collections.aci.registry.plugins.module_utils import manifest as acm
from ansible_collections.aci.registry.plugins.modules import aci_build, aci_from_docker

SEED = 14
MUTATIONS = 120
TRUNCATIONS = 40
MANIFEST = {'acKind': 'ImageManifest', 'acVersion': '0.8.11', 'name': 'example.com/app',
            'labels': [{'name': 'version', 'value': '1'}, {'name': 'os', 'value': 'linux'},
                       {'name': 'arch', 'value': 'amd64'}], 'app': {'exec': ['/bin/app'], 'user': '0', 'group': '0'}}
GOOD_MANIFEST = acm.canonical_json(MANIFEST)
PREVIOUS = b'previous image'


def aci_bytes(members, compress=True):
    """An ACI from ``(name, tarinfo type, content or link target)``, by the unit tests' builder."""
    with tempfile.TemporaryDirectory() as scratch:
        path = make_tar(pathlib.Path(scratch) / 'x.aci', members, 'gzip' if compress else 'none')
        return path.read_bytes()


def base(manifest=GOOD_MANIFEST):
    return [('manifest', tarfile.REGTYPE, manifest), ('rootfs', tarfile.DIRTYPE, None),
            ('rootfs/bin', tarfile.DIRTYPE, None), ('rootfs/bin/app', tarfile.REGTYPE, b'#!/bin/sh\necho hi\n' * 200)]


def nested(depth):
    return b'{"a":' * depth + b'1' + b'}' * depth


REG, DIR, LNK, SYM, CHR, BLK = (tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.LNKTYPE, tarfile.SYMTYPE,
                                tarfile.CHRTYPE, tarfile.BLKTYPE)

CRAFTED_ACIS = {
    'entry with ..': base() + [('rootfs/../../etc/cron.d/x', REG, b'x')],
    'absolute entry': base() + [('/etc/cron.d/x', REG, b'x')],
    'entry outside rootfs': base() + [('etc/cron.d/x', REG, b'x')],
    'file through a symlink': base() + [('rootfs/out', SYM, '/etc'), ('rootfs/out/cron.d/x', REG, b'x')],
    'hard link outside rootfs': base() + [('rootfs/shadow', LNK, '/etc/shadow')],
    'hard link with ..': base() + [('rootfs/shadow', LNK, 'rootfs/../../etc/shadow')],
    'hard link to a later file': base() + [('rootfs/a', LNK, 'rootfs/b'), ('rootfs/b', REG, b'')],
    'character device': base() + [('rootfs/dev-mem', CHR, None)],
    'block device': base() + [('rootfs/dev-sda', BLK, None)],
    'duplicate entry': base() + [('rootfs/bin/app', REG, b'again')],
    'manifest not JSON': base(b'<html>not found</html>'),
    'manifest not UTF-8': base(b'{"acKind": "ImageManifest", "name": "\xff\xfe"}'),
    'manifest deeply nested': base(nested(100000)),
    'manifest huge': base(b'{"acKind": "ImageManifest", "pad": "' + b'x' * (2 * 1024 * 1024) + b'"}'),
    'manifest a directory': [('manifest', DIR, None), ('rootfs', DIR, None)],
    'no manifest': [('rootfs', DIR, None)],
}


class Outcome:
    """What the modules did with the inputs of one kind; one figures row per kind."""

    def __init__(self):
        self.kinds = {}

    def add(self, kind, refused):
        tried, refusals = self.kinds.get(kind, (0, 0))
        self.kinds[kind] = (tried + 1, refusals + bool(refused))


@pytest.fixture(scope='module')
def outcome():
    seen = Outcome()
    yield seen
    for kind, (tried, refused) in sorted(seen.kinds.items()):
        figures.record('hostile input', '%s: tried / refused' % kind, '%d / %d' % (tried, refused))


def _attempt(run_module, main, args, dest):
    """Run the module on one input; ``True`` if refused. Checks the promises either way."""
    out = os.path.dirname(dest)
    with open(dest, 'wb') as f:
        f.write(PREVIOUS)
    before = sorted(os.listdir(out))
    result = run_module(main, args)
    if result.get('failed'):
        assert result['msg'] and 'Traceback' not in result['msg'], result
        assert sorted(os.listdir(out)) == before, 'a refused input left %s' % sorted(set(os.listdir(out)) - set(before))
        with open(dest, 'rb') as f:
            assert f.read() == PREVIOUS, 'a refused input changed the previous image'
        return True
    aci.inspect_aci(dest)  # an accepted input must give a readable, valid image
    return False


def _from_aci(run_module, tmp_path, data, label):
    work = tmp_path / label
    work.mkdir()
    src = work / 'in.aci'
    src.write_bytes(data)
    (work / 'out').mkdir()
    dest = str(work / 'out' / 'image.aci')
    return _attempt(run_module, aci_build.main, dict(from_aci=str(src), dest=dest), dest)


@pytest.mark.parametrize('kind', sorted(CRAFTED_ACIS))
def test_crafted_aci_is_refused(kind, run_module, tmp_path, outcome):
    refused = _from_aci(run_module, tmp_path, aci_bytes(CRAFTED_ACIS[kind]), 'crafted')
    if kind.endswith('device'):
        # appc images may carry device nodes (aci_build keeps a rootfs's own): rkt creates them
        # inside the pod's root only. Accepted, and the image must read back valid.
        outcome.add('ACI, crafted (%s): accepted as appc allows' % kind, refused)
        assert not refused
        return
    outcome.add('ACI, crafted (%s)' % kind, refused)
    assert refused, '%s was accepted' % kind


def _mutations(data, rng, count):
    for _case in range(count):
        damaged = bytearray(data)
        for _flip in range(rng.randint(1, 4)):
            # Past the 10-byte gzip header: a damaged header is the dull case.
            damaged[rng.randrange(10, len(damaged))] ^= 1 << rng.randrange(8)
        yield bytes(damaged)


def test_randomly_damaged_acis_never_crash(run_module, tmp_path, outcome):
    rng = random.Random(SEED)
    good = aci_bytes(base())
    for number, data in enumerate(_mutations(good, rng, MUTATIONS)):
        outcome.add('ACI, random bit flips', _from_aci(run_module, tmp_path, data, 'flip%d' % number))
    for number in range(TRUNCATIONS):
        cut = good[:rng.randrange(1, len(good))]
        outcome.add('ACI, truncated', _from_aci(run_module, tmp_path, cut, 'cut%d' % number))
    for number, kind in enumerate(('flips in the tar, uncompressed',)):
        plain = aci_bytes(base(), compress=False)
        for case, data in enumerate(_mutations(plain, rng, MUTATIONS // 2)):
            outcome.add('ACI, random bit flips, no compression', _from_aci(run_module, tmp_path, data, 'plain%d-%d' % (number, case)))


def _from_docker(run_module, tmp_path, files, label):
    work = tmp_path / label
    work.mkdir()
    src = archives.tar_files(work / 'in.tar', files)
    (work / 'out').mkdir()
    dest = str(work / 'out' / 'image.aci')
    return _attempt(run_module, aci_from_docker.main, dict(src=str(src), dest=dest, name='example.com/mirror/app'), dest)


def _docker_image(layer_members, config=None):
    return archives.Img([layer_members], config or {'Cmd': ['/x']}, ['example.com/hostile:1'])


def _lying_config():
    files = archives.classic_files([archives.sample()])
    manifest = json.loads(files['manifest.json'])
    config_path = manifest[0]['Config']
    config = json.loads(files[config_path])
    config['rootfs']['diff_ids'] = config['rootfs']['diff_ids'][:1]
    files[config_path] = json.dumps(config).encode()
    return files


def _replaced_layer():
    files = archives.classic_files([archives.sample()])
    manifest = json.loads(files['manifest.json'])
    files[manifest[0]['Layers'][0]] = archives.layer_tar([archives.f('bin/busybox', b'trojan', 0o755)])
    return files


CRAFTED_DOCKER = {
    'layer entry with ..': lambda: archives.classic_files([_docker_image([archives.f('../../etc/cron.d/x', b'x')])]),
    'layer absolute entry': lambda: archives.classic_files([_docker_image([archives.f('/etc/cron.d/x', b'x')])]),
    'whiteout climbing out': lambda: archives.classic_files([_docker_image([archives.f('../.wh.etc', b'')])]),
    'opaque whiteout climbing out': lambda: archives.classic_files([_docker_image([archives.f('../../.wh..wh..opq', b'')])]),
    'hard link outside': lambda: archives.classic_files([_docker_image([archives.hard('bin/shadow', '../../etc/shadow')])]),
    'config lies about layers': _lying_config,
    'layer replaced': _replaced_layer,
    'manifest.json deeply nested': lambda: dict(archives.classic_files([archives.sample()]),
                                                **{'manifest.json': nested(100000)}),
}


@pytest.mark.parametrize('kind', sorted(CRAFTED_DOCKER))
def test_crafted_docker_archive_is_refused(kind, run_module, tmp_path, outcome):
    refused = _from_docker(run_module, tmp_path, CRAFTED_DOCKER[kind](), 'crafted')
    outcome.add('Docker archive, crafted (%s)' % kind, refused)
    assert refused, '%s was accepted' % kind


def test_randomly_damaged_docker_layers_never_crash(run_module, tmp_path, outcome):
    rng = random.Random(SEED)
    files = archives.classic_files([archives.sample()])
    layers = json.loads(files['manifest.json'])[0]['Layers']
    for number in range(MUTATIONS // 2):
        damaged = dict(files)
        name = rng.choice(layers)
        damaged[name] = next(_mutations(gzip.compress(files[name], mtime=0), rng, 1))
        outcome.add('Docker archive, gzip layer with bit flips',
                    _from_docker(run_module, tmp_path, damaged, 'layer%d' % number))
    for number in range(MUTATIONS // 4):
        damaged = dict(files)
        damaged['manifest.json'] = next(_mutations(b'0123456789' + files['manifest.json'], rng, 1))[10:]
        outcome.add('Docker archive, manifest.json with bit flips',
                    _from_docker(run_module, tmp_path, damaged, 'manifest%d' % number))
