"""aci_webroot writes the same bytes, links and results as recorded in ``data/aci_webroot_pages.json``.

rkt and the server role's nginx read these pages (the molecule scenarios check them with the real
rkt), so a refactoring of the renderers must not change a byte. The record was first made at
commit 3701205; it was made again when the catalog was redesigned and ``index.json`` added, and
then every discovery page, link, other file and module result was checked to be the same as at
3701205 (only ``index.html`` differed, and ``index.json`` was new). To record again after a
deliberate change of the pages (and review the diff of the record)::

    ACI_WEBROOT_RECORD=$PWD/tests/unit/plugins/modules/data/aci_webroot_pages.json \\
        pytest -q -p no:xdist tests/unit/plugins/modules/test_aci_webroot_bytes.py

Each case is a sequence of module runs on one web root; after each run the result (paths of the
web root replaced by ``<root>``) and the whole tree (page bytes and modes, link targets, other
files and directories) are compared.
"""

import json
import os

import pytest

from ansible_collections.aci.registry.plugins.modules import aci_webroot

FIXTURES = os.path.join(os.path.dirname(__file__), 'data', 'aci_webroot_pages.json')
DOMAIN = 'reg.example.com'
FINGERPRINT = '9E90CD8CA81488F286CB6683982367D1E8F76CF7'


def image(path, version, **kw):
    return dict(dict(name='%s/%s' % (DOMAIN, path), version=version), **kw)


NESTED = [
    image('app', 'v0.0.1', image_id='sha512-' + 'a' * 64, size=1845467),
    image('app', 'v0.0.2'),
    image('app', 'v0.0.10', size=10),
    image('app1', 'v2', arch='arm64', image_id='sha512-' + 'b' * 64),
    image('app1', 'v2'),
    image('team', 'v1'),
    image('team/tool', '1.0', arch='aarch64', size=3 * 1024 ** 3),
    image('team/tool/sub', 'v3-rc.1', os='freebsd'),
]
PINNED = [
    image('a/b/c', 'v1.9.0'),
    image('a/b/c', 'v1.10.0'),
    image('a/b/c', 'v1.2', latest=True),
    image('a/b', 'v1'),
    image('a', '2024.1+build.7'),
]
GLANCE = [
    image('app', 'v1', published='2026-12-01T09:00:00Z', exec=['/bin/app', 'a b'], unpacked_size=5 * 1024 ** 2,
          labels={'version': 'v1', 'os': 'linux', 'arch': 'amd64', 'channel': 'stable', 'tricky<&>': '"quoted"'},
          image_id='sha512-' + 'c' * 128, size=2048),
    image('app', 'v2', published='2026-12-03T07:30:00Z', exec=['/bin/app']),
]

# The images whose files are in the web root, and the runs: (check_mode, diff, arguments but path).
CASES = {
    'nested names, port 443': (NESTED, [
        (True, True, dict(domain=DOMAIN, images=NESTED, signer_fingerprint=FINGERPRINT)),
        (False, True, dict(domain=DOMAIN, images=NESTED, signer_fingerprint=FINGERPRINT)),
        (False, True, dict(domain=DOMAIN, images=NESTED, signer_fingerprint=FINGERPRINT)),
        (True, True, dict(domain=DOMAIN, images=NESTED[:3] + NESTED[6:7])),
        (False, True, dict(domain=DOMAIN, images=NESTED[:3] + NESTED[6:7])),
        (False, True, dict(domain=DOMAIN, images=NESTED[:1], prune=False)),
        (False, False, dict(domain=DOMAIN, images=NESTED[:1])),
    ]),
    'port 8443, a pinned latest, an escaped title': (PINNED, [
        (False, True, dict(domain=DOMAIN, port=8443, images=PINNED, title='<Team & "Co">\'s images')),
        (True, True, dict(domain=DOMAIN, port=8443, images=PINNED, title='<Team & "Co">\'s images')),
        (False, True, dict(domain=DOMAIN, port=8443, images=PINNED[:2])),
    ]),
    'published, exec, labels, unpacked size': (GLANCE, [
        (False, True, dict(domain=DOMAIN, images=GLANCE, signer_fingerprint=FINGERPRINT)),
    ]),
    'empty registry': ([], [
        (False, True, dict(domain=DOMAIN + '/', images=[])),
    ]),
    'refusals': (NESTED, [
        (False, True, dict(domain=DOMAIN, images=NESTED + [image('ghost', 'v1'), image('ghost/er', 'v1', os='plan9')])),
        (False, False, dict(domain=DOMAIN, images=[image('app', 'latest'), dict(name='elsewhere.org/x', version='v1')])),
        (False, False, dict(domain=DOMAIN, images=[image('app1', '../x'), dict(name='elsewhere.org/x', version='v1')])),
        (False, False, dict(domain=DOMAIN, images=[image('app1', 'v2', os='.x'), image('app', '../x')])),
        (False, False, dict(domain=DOMAIN, images=[image('App', 'v1')])),
        (False, False, dict(domain=DOMAIN, path='nope', images=[])),
    ]),
}


def publish(root, images):
    """What the publish role copies before calling aci_webroot: images, signatures and the key."""
    relpaths = ['pubkeys.gpg', 'robots.txt']
    for i in images:
        path = i['name'].split('/', 1)[1]
        stem = '%s/%s-%s-%s' % (path, i['version'], i.get('os', 'linux'), i.get('arch', 'amd64'))
        relpaths += [stem + '.aci', stem + '.aci.asc']
    for relpath in relpaths:
        dest = root / relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(relpath.encode())


def tree(root):
    found = {}
    for directory, dirs, files in os.walk(str(root)):
        rel = os.path.relpath(directory, str(root))
        if rel != '.':
            found[rel + '/'] = 'dir'
        for name in dirs + files:
            path = os.path.join(directory, name)
            relpath = os.path.relpath(path, str(root))
            if os.path.islink(path):
                found[relpath] = {'link': os.readlink(path)}
            elif name.endswith(('.html', '.json')):
                with open(path, 'rb') as f:
                    found[relpath] = {name.rsplit('.', 1)[1]: f.read().decode('utf-8'),
                                      'mode': oct(os.stat(path).st_mode & 0o7777)}
            elif os.path.isfile(path):
                found[relpath] = 'file'
    return found


def run_case(tmp_path, run_module, published, runs):
    root = tmp_path / 'www'
    root.mkdir()
    publish(root, published)
    recorded = []
    for check_mode, diff, args in runs:
        args = dict(args, path=str(root / args['path']) if 'path' in args else str(root))
        result = run_module(aci_webroot.main, args, check_mode=check_mode, diff=diff)
        text = json.dumps(result, sort_keys=True).replace(str(root), '<root>')
        recorded.append(dict(result=json.loads(text), tree=tree(root)))
    return recorded


@pytest.mark.parametrize('case', sorted(CASES))
def test_same_as_recorded(tmp_path, run_module, case):
    recorded = run_case(tmp_path, run_module, *CASES[case])
    record_to = os.environ.get('ACI_WEBROOT_RECORD')
    if record_to:
        saved = {}
        if os.path.exists(record_to):
            with open(record_to) as f:
                saved = json.load(f)
        saved[case] = recorded
        with open(record_to, 'w') as f:
            json.dump(saved, f, indent=1, sort_keys=True)
            f.write('\n')
        return
    with open(FIXTURES) as f:
        expected = json.load(f)[case]
    assert len(recorded) == len(expected)
    for run, (got, want) in enumerate(zip(recorded, expected)):
        assert got['result'] == want['result'], 'run %d of %s' % (run, case)
        assert got['tree'] == want['tree'], 'run %d of %s' % (run, case)
