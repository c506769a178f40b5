"""What a client of the registry server sees, and what the server's sandbox really enforces."""

import json
import re

import pytest

BASE = 'https://aci-server-host'


def curl(host, args):
    """Run curl on the registry itself, through the system trust store only."""
    return host.run('curl -sS --max-time 5 %s' % args)


def test_service_runs_hardened_and_enabled(host):
    service = host.service('aci-registry')
    assert service.is_running and service.is_enabled
    workers = host.check_output("ps -o user= -C nginx | sort | uniq -c")
    assert re.search(r'\d+ aci-registry', workers) and re.search(r'1 root', workers)


def test_systemd_security_exposure_is_low(host):
    out = host.check_output('systemd-analyze security aci-registry.service --no-pager')
    score = float(re.search(r'Overall exposure level for aci-registry.service: ([\d.]+)', out).group(1))
    print('systemd-analyze security exposure: %.1f' % score)
    assert score <= 3.0


def test_sandbox_is_really_applied(host):
    pid = host.check_output('systemctl show -p MainPID --value aci-registry')
    status = host.check_output('cat /proc/%s/status' % pid)
    assert re.search(r'NoNewPrivs:\s+1', status)
    assert re.search(r'Seccomp:\s+2', status)
    # ProtectSystem=strict: in the service's mount namespace the root file system is read-only.
    root_mount = host.check_output("awk '$5 == \"/\"' /proc/%s/mountinfo" % pid)
    assert ' ro,' in root_mount or ' ro ' in root_mount


@pytest.mark.parametrize('name', ['app', 'app1', 'team/tool'])
def test_discovery_answers_exactly_the_asked_name(host, name):
    cmd = curl(host, "-w '\\n%%{http_code}' '%s/%s?ac-discovery=1'" % (BASE, name))
    body, code = cmd.stdout.rsplit('\n', 1)
    assert code == '200', cmd.stderr
    prefixes = re.findall(r'<meta name="ac-discovery" content="(\S+) (\S+)">', body)
    assert prefixes == [('aci-server-host/%s' % name, '%s/%s/{version}-{os}-{arch}.{ext}' % (BASE, name))]
    assert '<meta name="ac-discovery-pubkeys" content="aci-server-host/%s %s/pubkeys.gpg">' % (name, BASE) in body


def test_root_discovery_lists_every_name_most_specific_first(host):
    body = curl(host, "'%s/?ac-discovery=1'" % BASE).stdout
    prefixes = re.findall(r'<meta name="ac-discovery" content="(\S+) ', body)
    assert prefixes == ['aci-server-host/team/tool', 'aci-server-host/app1', 'aci-server-host/app']


@pytest.mark.parametrize('path', ['/app', '/app/', '/team/', '/.discovery/app.html', '/nope?ac-discovery=1'])
def test_no_listings_and_nothing_hidden(host, path):
    assert curl(host, "-o /dev/null -w '%%{http_code}' '%s%s'" % (BASE, path)).stdout == '404'


@pytest.mark.parametrize('path, content_type', [
    ('/app1/v2-linux-amd64.aci', 'application/octet-stream'),
    ('/app1/v2-linux-amd64.aci.asc', 'application/pgp-signature'),
    ('/pubkeys.gpg', 'application/pgp-keys'),
    ('/', 'text/html; charset=utf-8'),
    ('/index.json', 'application/json'),
])
def test_head_and_content_types(host, path, content_type):
    headers = curl(host, "-I '%s%s'" % (BASE, path)).stdout
    assert headers.startswith('HTTP/1.1 200')
    assert re.search(r'(?im)^content-type: %s\r?$' % re.escape(content_type), headers)
    for header in ('etag', 'last-modified', 'accept-ranges: bytes'):
        assert re.search(r'(?im)^%s' % header, headers)


def test_range_and_conditional_requests(host):
    url = '%s/app1/v2-linux-amd64.aci' % BASE
    partial = curl(host, "-r 0-3 -D - '%s'" % url).stdout
    assert partial.startswith('HTTP/1.1 206') and partial.endswith('app1')
    etag = re.search(r'(?im)^etag: (\S+)', partial).group(1)
    assert curl(host, "-o /dev/null -w '%%{http_code}' -H 'If-None-Match: %s' '%s'" % (etag, url)).stdout == '304'


def test_latest_alias_serves_the_newest_version(host):
    assert curl(host, "'%s/app1/latest-linux-amd64.aci'" % BASE).stdout == 'app1/v2-linux-amd64.aci bytes\n'


@pytest.mark.parametrize('flag, ok', [('-tls1_1', False), ('-tls1_2', True), ('-tls1_3', True)])
def test_only_tls_1_2_and_1_3(host, flag, ok):
    cmd = host.run('openssl s_client -connect aci-server-host:443 -servername aci-server-host %s -verify_return_error '
                   '</dev/null' % flag)
    assert (cmd.rc == 0) is ok, cmd.stdout[-400:]


def test_a_new_file_is_served_at_once(host):
    """nginx's open-file cache must not remember a miss: a publish copies images before pages."""
    path = '/srv/aci-registry/app1/v3-linux-amd64.aci'
    url = "-o /dev/null -w '%%{http_code}' '%s/app1/v3-linux-amd64.aci'" % BASE
    try:
        assert curl(host, url).stdout == '404'
        host.check_output('echo new > %s.tmp && mv %s.tmp %s' % (path, path, path))
        assert curl(host, url).stdout == '200'
    finally:
        host.run('rm -f %s' % path)


def test_a_replaced_page_is_served_within_the_cache_validity(host):
    """A page replaced by rename (as aci_webroot does) is seen again within open_file_cache_valid (1 s)."""
    page = '/srv/aci-registry/.discovery/app.html'
    url = "'%s/app?ac-discovery=1'" % BASE
    assert 'replaced' not in curl(host, url).stdout
    host.check_output('cp -p {0} {0}.orig'.format(page))
    try:
        host.check_output("sed 's/<head>/<head><!-- replaced -->/' {0}.orig > {0}.new && mv {0}.new {0}".format(page))
        # Bounded: three times the validity, one request every 0.1 s.
        seen = host.run("for i in $(seq 30); do curl -sS --max-time 5 %s | grep -q replaced && exit 0; sleep 0.1; done; "
                        "exit 1" % url)
        assert seen.rc == 0, 'the replaced page was still served in its old version after 3 s'
    finally:
        host.check_output('mv {0}.orig {0}'.format(page))


def test_a_registry_with_no_image_yet_has_its_key_catalog_and_an_empty_index(host):
    # converge.yml's second play: the publish role with no images, on a web root of its own.
    assert 'BEGIN PGP PUBLIC KEY BLOCK' in host.file('/srv/aci-empty/pubkeys.gpg').content_string
    index = json.loads(host.file('/srv/aci-empty/index.json').content_string)
    assert index['images'] == [] and index['domain'] == 'aci-server-host'
    assert host.file('/srv/aci-empty/index.html').is_file
    assert host.check_output('find /srv/aci-empty -name "*.aci*"') == ''
