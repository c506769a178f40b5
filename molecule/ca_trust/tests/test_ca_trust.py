"""What a user sees on a host after ca_trust installed one CA, removed another and replaced a third."""

import os

BUNDLE = '/etc/ssl/certs/ca-certificates.crt'


def test_kept_ca_is_installed(host):
    f = host.file('/usr/local/share/ca-certificates/kept-ca.crt')
    assert f.is_file
    assert f.mode == 0o644
    assert f.user == 'root'


def test_leaf_verifies_through_system_store_only(host):
    # No -CAfile: only the system store can make this succeed.
    out = host.check_output('openssl verify /root/leaf.pem')
    assert out.endswith('OK')


def test_python_default_context_trusts_the_ca(host):
    cmd = host.run(
        'python3 -c "import ssl; ctx = ssl.create_default_context(); '
        "print(any(c['subject'] == ((('commonName', 'aci.registry test kept-ca'),),) "
        'for c in ctx.get_ca_certs()))"'
    )
    assert cmd.stdout.strip() == 'True', cmd.stderr


def test_removed_ca_is_gone_from_the_store(host):
    assert not host.file('/usr/local/share/ca-certificates/removed-ca.crt').exists
    assert 'removed-ca' not in host.check_output('ls /etc/ssl/certs')
    kept = host.check_output('grep -c "BEGIN CERTIFICATE" %s' % BUNDLE)
    assert int(kept) > 100  # the distribution's CAs are still there


def test_bad_certificate_was_not_written(host):
    assert not host.file('/usr/local/share/ca-certificates/garbage.crt').exists


def test_a_replaced_ca_leaves_only_the_new_one(host):
    new = open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'pki', 'new-ca.pem')).read()
    old = open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'pki', 'old-ca.pem')).read()
    assert host.file('/usr/local/share/ca-certificates/rotated-ca.crt').content_string == new
    assert not host.file('/usr/local/share/ca-certificates/rotated-ca-next.crt').exists
    assert 'rotated-ca-next' not in host.check_output('ls /etc/ssl/certs')
    bundle = host.file(BUNDLE).content_string
    assert new.strip() in bundle and old.strip() not in bundle
