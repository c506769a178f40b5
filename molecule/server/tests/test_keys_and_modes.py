"""Keys where they belong and the modes of everything the server role writes, on the registry host.

The server holds one secret, its TLS key. The CA key and the signing key stay elsewhere (the
controller in this scenario), so anyone who takes the host can serve, not sign or issue.
"""

import pytest

import figures

SERVICE = 'aci-registry'
TLS_KEY = '/etc/aci-registry/tls/server.key'
# Path, mode, owner for every file and directory the role (and the scenario's TLS fixture) writes.
EXPECTED = [
    ('/etc/aci-registry', 0o755, 'root'),
    ('/etc/aci-registry/nginx.conf', 0o644, 'root'),
    ('/etc/aci-registry/tls/server.crt', 0o644, 'root'),
    (TLS_KEY, 0o600, 'root'),
    ('/srv/aci-registry', 0o755, 'root'),
    ('/etc/tmpfiles.d/%s.conf' % SERVICE, 0o644, 'root'),
    ('/etc/logrotate.d/%s' % SERVICE, 0o644, 'root'),
    ('/etc/systemd/system/%s.service' % SERVICE, 0o644, 'root'),
]
# Pseudo and volatile file systems, and the distribution's documentation (sample keys in docs).
PRUNE = ['/proc', '/sys', '/dev', '/run', '/tmp/.X11-unix', '/usr/share/doc']


@pytest.mark.parametrize('path, mode, owner', EXPECTED, ids=[e[0] for e in EXPECTED])
def test_mode_and_owner(host, path, mode, owner):
    f = host.file(path)
    ok = f.exists and f.mode == mode and f.user == owner and f.group == owner
    figures.record('security', 'mode of %s' % path, '%o %s:%s' % (f.mode, f.user, f.group) if f.exists else 'missing',
                   ok=ok)
    assert ok


def test_nothing_the_role_writes_is_group_or_world_writable(host):
    # Symbolic links (the latest- aliases) always show 0777 and are not modes anyone can write through.
    out = host.check_output('find /etc/aci-registry /srv/aci-registry ! -type l -perm /022 -print')
    found = out.split()
    figures.record('security', 'group/world-writable files in config and web root', len(found), 'files', ok=not found)
    assert not found


def _private_key_files(host):
    prune = ' -o '.join('-path %s' % p for p in PRUNE)
    # At a line's start, as in a key file: source code that merely names the marker is not a key.
    cmd = ("find / -xdev \\( %s \\) -prune -o -type f -size -1024k -print0 "
           "| xargs -0 grep -lsIE -- '^-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' || true" % prune)
    return sorted(host.check_output(cmd).split())


def test_the_tls_key_is_the_only_private_key_on_the_host(host):
    found = _private_key_files(host)
    others = [p for p in found if p != TLS_KEY]
    figures.record('security', 'PEM private keys on the server host besides the TLS key', len(others), 'files',
                   ok=not others)
    assert TLS_KEY in found and not others, found


def test_no_gpg_secret_keyring_on_the_host(host):
    prune = ' -o '.join('-path %s' % p for p in PRUNE)
    out = host.check_output(
        "find / -xdev \\( %s \\) -prune -o \\( -name secring.gpg -o -path '*/private-keys-v1.d/*' \\) -type f -print"
        % prune)
    found = out.split()
    figures.record('security', 'GPG secret keys on the server host', len(found), 'files', ok=not found)
    assert not found, found
