# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests (Hypothesis) for the three parsers that read what others wrote: the manifest
validator, the discovery page parser and the ACI tar reader.

Random and mutated inputs must never raise anything but the module's own error class; accepted
ones must round-trip. ``max_examples`` is bounded so the whole file stays well under a minute,
and ``derandomize`` makes every run try the same inputs (a failure is reproducible).
"""

import copy
import hashlib
import io
import json
import tarfile

from hypothesis import HealthCheck, given, settings, strategies as st

import figures

from ansible_collections.aci.registry.plugins.module_utils import aci, discovery
from ansible_collections.aci.registry.plugins.module_utils import manifest as acm

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

GOOD = {
    'acKind': 'ImageManifest', 'acVersion': '0.8.11', 'name': 'example.com/tools/app',
    'labels': [{'name': 'version', 'value': '1.0.0'}, {'name': 'os', 'value': 'linux'},
               {'name': 'arch', 'value': 'amd64'}],
    'app': {'exec': ['/usr/bin/app'], 'user': '100', 'group': '300',
            'ports': [{'name': 'http', 'protocol': 'tcp', 'port': 8080}],
            'environment': [{'name': 'PATH', 'value': '/usr/bin'}]},
    'annotations': [{'name': 'authors', 'value': 'ops@example.com'}],
}

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=12)


def _paths(value, prefix=()):
    """Every (path tuple) inside a JSON value, the value itself included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


GOOD_PATHS = list(_paths(GOOD))[1:]


def _check_round_trip(manifest):
    """An accepted manifest written canonically reads back equal and is accepted again."""
    data = acm.canonical_json(manifest)
    again = acm.parse_manifest(data)
    assert again == json.loads(json.dumps(manifest))
    acm.validate_manifest(again)
    assert acm.canonical_json(again) == data


@BOUNDED
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_random_bytes_are_a_manifest_or_a_manifest_error(data):
    try:
        manifest = acm.parse_manifest(data)
        acm.validate_manifest(manifest)
    except acm.ManifestError:
        return
    _check_round_trip(manifest)


@BOUNDED
@given(st.lists(st.tuples(st.sampled_from(GOOD_PATHS), JSON), min_size=1, max_size=4))
def test_mutated_manifests_are_valid_or_a_manifest_error(mutations):
    manifest = copy.deepcopy(GOOD)
    for path, value in mutations:
        node = manifest
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent of this path
    errors, warnings = acm.check_manifest(manifest)  # never raises, whatever the shape
    assert isinstance(errors, list) and isinstance(warnings, list)
    if not errors:
        _check_round_trip(manifest)


SEGMENT = st.from_regex(r'\A[a-z0-9]{1,8}\Z')
PATHS = st.lists(st.lists(SEGMENT, min_size=1, max_size=3).map('/'.join), min_size=1, max_size=5, unique=True)
LABELS = st.fixed_dictionaries({'version': st.from_regex(r'\Av[0-9]{1,3}\Z'), 'os': st.just('linux'),
                                'arch': st.sampled_from(['amd64', 'arm64'])})


@BOUNDED
@given(st.text(max_size=400) | st.builds(lambda a, b: a + '<meta name="ac-discovery" content="' + b + '">',
                                         st.text(max_size=50), st.text(max_size=80)))
def test_any_page_parses_to_tags_and_matching_never_raises(html):
    tags = discovery.meta_tags(html)
    assert all(name in (discovery.DISCOVERY_TAG, discovery.PUBKEYS_TAG) for name, _content in tags)
    found = discovery.match('reg.example.com/app', {'version': 'v1', 'os': 'linux', 'arch': 'amd64'}, tags)
    assert found is None or len(found) == 3


@BOUNDED
@given(PATHS, LABELS, st.sampled_from([443, 8443]))
def test_rendered_tags_are_discovered_back(paths, labels, port):
    domain = 'reg.example.com'
    page = '<html><head>\n%s\n</head></html>' % discovery.render_tags(domain, paths, port)
    tags = discovery.meta_tags(page)
    base = 'https://%s' % domain if port == 443 else 'https://%s:%d' % (domain, port)
    for path in paths:
        aci_url, asc_url, pubkeys = discovery.match('%s/%s' % (domain, path), labels, tags)
        expected = '%s/%s/%s-%s-%s.aci' % (base, path, labels['version'], labels['os'], labels['arch'])
        assert (aci_url, asc_url) == (expected, expected + '.asc')
        assert pubkeys and pubkeys[0].startswith(base + '/')


def _good_aci(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        for name, kind, data in [('manifest', tarfile.REGTYPE, json.dumps(GOOD).encode()),
                                 ('rootfs', tarfile.DIRTYPE, b'')] + files:
            info = tarfile.TarInfo(name)
            info.type, info.size = kind, len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


GOOD_TAR = _good_aci([('rootfs/etc', tarfile.DIRTYPE, b''), ('rootfs/etc/app.conf', tarfile.REGTYPE, b'x' * 700)])
TRIED = {'tar reader: random or mutated archives': 0}


@settings(BOUNDED, max_examples=200)
@given(st.one_of(st.binary(max_size=2048),
                 st.lists(st.tuples(st.integers(0, len(GOOD_TAR) - 1), st.integers(0, 255)), min_size=1, max_size=8)
                 .map(lambda flips: bytes(b if i not in dict(flips) else dict(flips)[i] for i, b in enumerate(GOOD_TAR))),
                 st.integers(0, len(GOOD_TAR)).map(lambda n: GOOD_TAR[:n])))
def test_tar_reader_raises_only_its_own_errors(tmp_path_factory, data):
    path = tmp_path_factory.mktemp('aci') / 'image.aci'
    path.write_bytes(data)
    TRIED['tar reader: random or mutated archives'] += 1
    try:
        info = aci.inspect_aci(str(path), validate=False)
    except (aci.AciError, acm.ManifestError):
        return
    # Accepted: the image ID is the SHA-512 of exactly these (uncompressed) bytes, and the
    # entries read back are the ones the archive holds.
    assert info.image_id == 'sha512-' + hashlib.sha512(data).hexdigest()
    names = [entry.name for entry in aci.iter_entries(str(path))]
    assert 'manifest' in names and len(names) == len(set(names))


def test_zz_record_figures():
    for kind, count in TRIED.items():
        figures.record('hostile input', '%s: tried' % kind, count)
