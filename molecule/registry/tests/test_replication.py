"""Bytes leave the controller once: the second registry took every image from the first, over HTTPS.

side_effect.yml then makes the second registry lose its peer (an address nothing answers at) while
the rotation re-signs every image: it copies the new signatures from the controller instead, and
test_fleet.py proves every image still fetches verified from each replica.
"""

import pytest

from test_fleet import IMAGES

AGENT = 'aci.registry-aci_replica_sync'


def access_log(host):
    """The server role logs to a file where logrotate is installed, else to the journal."""
    return host.check_output('cat /var/log/aci-registry/access.log 2>/dev/null '
                             '|| journalctl -u aci-registry --no-pager -o cat').splitlines()


@pytest.fixture(scope='module')
def registries(hosts_in):
    return dict((h.backend.name, h) for h in hosts_in('aci_registries'))


def test_the_second_registry_took_every_image_from_the_first_once(registries):
    first, second = registries['aci-reg1'], registries['aci-reg2']
    second_address = first.check_output("getent ahostsv4 aci-reg2 | head -1 | cut -d' ' -f1")
    asked = [line for line in access_log(first) if AGENT in line]
    for path, version in IMAGES:
        request = '"GET /%s/%s-linux-amd64.aci HTTP/1.1" 200 ' % (path, version)
        taken = [line for line in asked if request in line]
        assert len(taken) == 1, (request, asked)
        assert taken[0].startswith(second_address + ' ')


def test_the_first_registry_asked_no_peer(registries):
    # It came first (serial 1): everything it has came from the controller.
    assert [line for line in access_log(registries['aci-reg2']) if AGENT in line] == []


def test_after_losing_its_peer_the_second_registry_has_the_controllers_signatures(registries):
    first, second = registries['aci-reg1'], registries['aci-reg2']
    for path, version in IMAGES:
        signature = '/srv/aci-registry/%s/%s-linux-amd64.aci.asc' % (path, version)
        assert second.file(signature).sha256sum == first.file(signature).sha256sum
        assert second.file(signature).mode == 0o644 and second.file(signature).user == 'root'


def web_root(host):
    """Every file under the web root, by path, with its SHA-256."""
    listing = host.check_output("cd /srv/aci-registry && find . -type f -print0 | sort -z | xargs -0r sha256sum")
    return dict(reversed(line.split(None, 1)) for line in listing.splitlines())


def test_every_replica_serves_the_same_bytes_under_the_same_names(registries):
    # Each replica lays out its pages, catalog and index.json itself, from the same records by the
    # same code: what it writes must not depend on the host, or clients would see two registries.
    first, second = web_root(registries['aci-reg1']), web_root(registries['aci-reg2'])
    assert './index.json' in first and './index.html' in first
    assert sorted(first) == sorted(second)
    assert [path for path in first if first[path] != second[path]] == []
