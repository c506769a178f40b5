"""Test fixture: writes a small `docker save` archive (no Docker and no registry needed here).

Two layers: the first adds /bin/hello and /etc/motd, the second replaces the program and deletes
/etc/motd with a whiteout. The config sets Entrypoint, Cmd, Env, WorkingDir, a port and a label.
"""

import hashlib
import io
import json
import sys
import tarfile


def layer(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main(dest):
    layers = [
        layer([('bin/hello', b'#!/bin/sh\necho old\n', 0o755), ('etc/motd', b'remove me\n', 0o644)]),
        layer([('bin/hello', b'#!/bin/sh\necho hello from a docker image\n', 0o755), ('etc/.wh.motd', b'', 0o644)]),
    ]
    diff_ids = ['sha256:' + hashlib.sha256(data).hexdigest() for data in layers]
    config = json.dumps({
        'architecture': 'amd64', 'os': 'linux',
        'config': {'Entrypoint': ['/bin/hello'], 'Cmd': ['--greet'], 'Env': ['GREETING=hi'],
                   'WorkingDir': '/srv', 'ExposedPorts': {'8080/tcp': {}}, 'Labels': {'maintainer': 'aci-tests'}},
        'rootfs': {'type': 'layers', 'diff_ids': diff_ids},
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + '.json'
    members = [(config_name, config)] + [('%d/layer.tar' % i, data) for i, data in enumerate(layers)]
    manifest = [{'Config': config_name, 'RepoTags': ['example/hello:2.0'],
                 'Layers': ['%d/layer.tar' % i for i in range(len(layers))]}]
    members.append(('manifest.json', json.dumps(manifest).encode()))
    with tarfile.open(dest, 'w') as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1700000000
            tar.addfile(info, io.BytesIO(data))


if __name__ == '__main__':
    main(sys.argv[1])
