"""A real TLS scanner (sslyze) against the role's nginx: what any client on the network can negotiate.

The scan runs on the controller against the container's address on the scenario's podman network,
with SNI and the certificate check for the registry's name, and the scenario's own CA as trust store.
"""

import os
import pathlib
import subprocess

import pytest
import yaml

import figures

NAME = 'aci-server-host'
ROLE = pathlib.Path(__file__).resolve().parents[3] / 'roles' / 'server'
DEFAULTS = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())
# Names in no suite the role may ever offer: broken, unauthenticated or export-grade.
WEAK = ('RC4', 'DES', 'NULL', 'EXP', 'ANON', 'ADH', 'AECDH', 'MD5', 'PSK', 'SRP', 'IDEA', 'SEED')


def _address():
    out = subprocess.run(['podman', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', NAME],
                         check=True, capture_output=True, text=True).stdout.split()
    return out[0]


@pytest.fixture(scope='module')
def scan():
    sslyze = pytest.importorskip('sslyze')
    from sslyze.plugins.certificate_info.implementation import CertificateInfoExtraArgument
    ca = pathlib.Path(os.environ['MOLECULE_EPHEMERAL_DIRECTORY']) / 'pki' / 'ca.pem'
    commands = {
        sslyze.ScanCommand.SSL_2_0_CIPHER_SUITES, sslyze.ScanCommand.SSL_3_0_CIPHER_SUITES,
        sslyze.ScanCommand.TLS_1_0_CIPHER_SUITES, sslyze.ScanCommand.TLS_1_1_CIPHER_SUITES,
        sslyze.ScanCommand.TLS_1_2_CIPHER_SUITES, sslyze.ScanCommand.TLS_1_3_CIPHER_SUITES,
        sslyze.ScanCommand.TLS_COMPRESSION, sslyze.ScanCommand.SESSION_RENEGOTIATION,
        sslyze.ScanCommand.CERTIFICATE_INFO,
    }
    request = sslyze.ServerScanRequest(
        server_location=sslyze.ServerNetworkLocation(hostname=NAME, port=DEFAULTS['server_port'], ip_address=_address()),
        network_configuration=sslyze.ServerNetworkConfiguration(tls_server_name_indication=NAME),
        scan_commands=commands,
        scan_commands_extra_arguments=sslyze.ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=ca)),
    )
    scanner = sslyze.Scanner()
    scanner.queue_scans([request])
    result = next(iter(scanner.get_results()))
    assert result.connectivity_error_trace is None, result.connectivity_error_trace
    return result.scan_result


def _accepted(scan, attr):
    attempt = getattr(scan, attr)
    assert attempt.error_trace is None, attempt.error_trace
    return [s.cipher_suite for s in attempt.result.accepted_cipher_suites]


def test_only_tls_1_2_and_1_3_are_accepted(scan):
    offered = {version: len(_accepted(scan, attr)) for version, attr in [
        ('SSLv2', 'ssl_2_0_cipher_suites'), ('SSLv3', 'ssl_3_0_cipher_suites'),
        ('TLSv1', 'tls_1_0_cipher_suites'), ('TLSv1.1', 'tls_1_1_cipher_suites'),
        ('TLSv1.2', 'tls_1_2_cipher_suites'), ('TLSv1.3', 'tls_1_3_cipher_suites')]}
    accepted = sorted(v for v, n in offered.items() if n)
    ok = accepted == sorted(DEFAULTS['server_tls_protocols'])
    figures.record('security', 'TLS scan: protocols accepted', ' '.join(accepted), ok=ok)
    assert ok, offered


def test_tls_1_2_suites_are_exactly_the_configured_ones(scan):
    names = [s.openssl_name for s in _accepted(scan, 'tls_1_2_cipher_suites')]
    weak = [n for n in names if any(w in n.upper() for w in WEAK) or 'CBC' in n or n.endswith('-SHA')]
    unexpected = sorted(set(names) - set(DEFAULTS['server_tls_ciphers']))
    figures.record('security', 'TLS scan: TLS 1.2 suites accepted', len(names), 'suites', ok=not unexpected)
    figures.record('security', 'TLS scan: weak suites (RC4/3DES/NULL/EXPORT/anon/CBC/SHA1)', len(weak),
                   'suites', ok=not weak)
    assert names and not unexpected and not weak, names


def test_tls_1_3_suites_are_aead_only(scan):
    names = [s.name for s in _accepted(scan, 'tls_1_3_cipher_suites')]
    figures.record('security', 'TLS scan: TLS 1.3 suites accepted', len(names), 'suites', ok=bool(names))
    assert names and all('GCM' in n or 'CHACHA20' in n or 'CCM' in n for n in names), names


def test_no_compression_and_no_insecure_renegotiation(scan):
    compression = scan.tls_compression.result.supports_compression
    reneg = scan.session_renegotiation.result
    figures.record('security', 'TLS scan: compression (CRIME)', 'on' if compression else 'off', ok=not compression)
    figures.record('security', 'TLS scan: secure renegotiation', reneg.supports_secure_renegotiation,
                   ok=reneg.supports_secure_renegotiation)
    figures.record('security', 'TLS scan: client-initiated renegotiation DoS',
                   reneg.is_vulnerable_to_client_renegotiation_dos,
                   ok=not reneg.is_vulnerable_to_client_renegotiation_dos)
    assert not compression
    assert reneg.supports_secure_renegotiation and not reneg.is_vulnerable_to_client_renegotiation_dos


def test_certificate_chain_is_valid_for_the_name_against_the_scenarios_ca(scan):
    info = scan.certificate_info
    assert info.error_trace is None, info.error_trace
    deployment = info.result.certificate_deployments[0]
    custom = [r for r in deployment.path_validation_results if r.trust_store.name == 'Supplied CA file']
    valid = bool(custom) and all(r.was_validation_successful for r in custom)
    figures.record('security', 'TLS scan: chain valid against the scenario CA', valid, ok=valid)
    # sslyze validates the path for the SNI name already; the names are also read off the leaf itself.
    from cryptography import x509
    leaf = deployment.received_certificate_chain[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    figures.record('security', 'TLS scan: leaf names %s' % NAME, ' '.join(names), ok=NAME in names)
    assert valid, [(r.trust_store.name, r.validation_error) for r in deployment.path_validation_results]
    assert NAME in names
