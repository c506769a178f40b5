"""What a user sees on a host after ca_trust installed one CA and removed another."""

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
