"""No secret in output: a playbook at -vvv with passphrases set leaks neither them nor key material.

A real ansible-playbook run (connection local, into a temporary directory) keeps a CA with an
encrypted key, issues a leaf from it, and makes a protected GPG key with a secret-key backup; then
it gives that CA key and that secret key back as module parameters (as a vault would), and signs
an image with the protected key. A second run does what site.yml does with the pki and publish
roles. The whole output of each, diffs and registered results included (printed by debug), is
searched.
"""

import os
import pathlib
import subprocess
import sys

import figures

ROOT = pathlib.Path(__file__).resolve().parents[2]
CA_PASS = 'ca-pass-7f3b1e9d-not-in-output'
GPG_PASS = 'gpg-pass-4c2a8e60-not-in-output'
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - aci.registry.x509_cert:
        kind: ca
        path: "{{ d }}/ca.pem"
        privatekey_path: "{{ d }}/ca.key"
        privatekey_passphrase: "{{ ca_pass }}"
        subject: {common_name: no-secrets test CA}
      register: ca
    - aci.registry.x509_cert:
        kind: leaf
        path: "{{ d }}/leaf.pem"
        privatekey_path: "{{ d }}/leaf.key"
        ca_cert_path: "{{ d }}/ca.pem"
        ca_privatekey_path: "{{ d }}/ca.key"
        ca_privatekey_passphrase: "{{ ca_pass }}"
        subject_alt_names: [leaf.example.test]
      register: leaf
    - aci.registry.gpg_key:
        gnupghome: "{{ d }}/gnupg"
        name_real: no-secrets test signer
        passphrase: "{{ gpg_pass }}"
        public_key_path: "{{ d }}/pubkeys.gpg"
        secret_key_backup_path: "{{ d }}/secret.asc"
      register: gpg
    # The same secrets again as module parameters, as a vault gives them (AWX).
    - aci.registry.x509_cert:
        kind: ca
        path: "{{ d }}/ca-copy.pem"
        privatekey_path: "{{ d }}/ca-copy.key"
        content: "{{ lookup('ansible.builtin.file', d ~ '/ca.pem') }}"
        privatekey_content: "{{ lookup('ansible.builtin.file', d ~ '/ca.key') }}"
        privatekey_passphrase: "{{ ca_pass }}"
      register: ca_given
    - aci.registry.gpg_key:
        gnupghome: "{{ d }}/gnupg-imported"
        secret_key: "{{ lookup('ansible.builtin.file', d ~ '/secret.asc') }}"
        passphrase: "{{ gpg_pass }}"
      register: gpg_given
    - ansible.builtin.file:
        path: "{{ d }}/rootfs"
        state: directory
        mode: "0755"
    - ansible.builtin.copy:
        content: "hello\n"
        dest: "{{ d }}/rootfs/hello"
        mode: "0644"
    - aci.registry.aci_build:
        rootfs: "{{ d }}/rootfs"
        name: example.test/no-secrets
        labels: {version: "1.0", os: linux, arch: amd64}
        dest: "{{ d }}/no-secrets.aci"
      register: built
    - aci.registry.aci_sign:
        path: "{{ d }}/no-secrets.aci"
        gnupghome: "{{ d }}/gnupg"
        fingerprint: "{{ gpg.fingerprint }}"
        passphrase: "{{ gpg_pass }}"
      register: signed
    - ansible.builtin.debug:
        var: item
      loop: ["{{ ca }}", "{{ leaf }}", "{{ gpg }}", "{{ ca_given }}", "{{ gpg_given }}", "{{ built }}", "{{ signed }}"]
"""
MARKERS = ['PRIVATE KEY-----', 'PGP PRIVATE KEY BLOCK']
# The roles as site.yml runs them, with the controller as the one host: a CA with an encrypted key
# and a certificate from it (pki), a protected signing key that signs a published image (publish).
ROLES_PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    pki_dir: "{{ d }}/pki"
    pki_ca_passphrase: "{{ ca_pass }}"
    pki_ca_key_type: ecdsa
    pki_key_type: ecdsa
    pki_tls_dir: "{{ d }}/tls"
    pki_subject_alt_names: [registry.no-secrets.test]
    publish_domain: registry.no-secrets.test
    publish_webroot: "{{ d }}/webroot"
    publish_build_dir: "{{ d }}/build"
    publish_gnupghome: "{{ d }}/gnupg"
    publish_signing_key: {name_real: no-secrets role signer, algorithm: rsa2048}
    publish_signing_passphrase: "{{ gpg_pass }}"
    publish_images:
      - {name: app, version: v1, rootfs: "{{ d }}/rootfs", manifest: {exec: [/hello], user: "0", group: "0"}}
  pre_tasks:
    - ansible.builtin.file:
        path: "{{ d }}/rootfs"
        state: directory
        mode: "0755"
    - ansible.builtin.copy:
        content: "hello\\n"
        dest: "{{ d }}/rootfs/hello"
        mode: "0755"
  roles:
    - aci.registry.pki
    - aci.registry.publish
"""


def run_vvv(tmp_path, playbook):
    """``ansible-playbook -vvv --diff`` of ``playbook`` with both passphrases set; its whole output."""
    (tmp_path / 'play.yml').write_text(playbook)
    (tmp_path / 'out').mkdir()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.build' / 'collections'),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false', ANSIBLE_NOCOLOR='1', ANSIBLE_HOME=str(tmp_path / 'home'))
    bindir = os.path.dirname(sys.executable)
    proc = subprocess.run(
        [os.path.join(bindir, 'ansible-playbook'), '-vvv', '--diff', '-i', 'localhost,', str(tmp_path / 'play.yml'),
         '-e', 'd=%s ca_pass=%s gpg_pass=%s ansible_python_interpreter=%s' % (tmp_path / 'out', CA_PASS, GPG_PASS, sys.executable)],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    return out


def assert_no_secret(out, what):
    labels = {CA_PASS: 'CA passphrase', GPG_PASS: 'GPG passphrase', MARKERS[0]: 'PEM private key',
              MARKERS[1]: 'PGP private key'}
    leaks = {label: out.count(s) for s, label in labels.items()}
    figures.record('security', 'no secret in -vvv --diff output (%s): lines searched' % what, len(out.splitlines()), 'lines')
    for label, n in leaks.items():
        figures.record('security', 'no secret in -vvv --diff output (%s): %s' % (what, label), n, 'occurrences', ok=n == 0)
    assert not any(leaks.values()), leaks


def test_module_output_at_vvv_holds_no_passphrase_and_no_private_key(tmp_path):
    out = run_vvv(tmp_path, PLAYBOOK)
    # The run really made the secrets it must not show.
    assert '-----BEGIN ENCRYPTED PRIVATE KEY-----' in (tmp_path / 'out' / 'ca.key').read_text()
    assert 'PGP PRIVATE KEY BLOCK' in (tmp_path / 'out' / 'secret.asc').read_text()
    assert (tmp_path / 'out' / 'no-secrets.aci.asc').exists()
    assert_no_secret(out, 'modules')


def test_role_output_at_vvv_holds_no_passphrase_and_no_private_key(tmp_path):
    out = run_vvv(tmp_path, ROLES_PLAYBOOK)
    assert '-----BEGIN ENCRYPTED PRIVATE KEY-----' in (tmp_path / 'out' / 'pki' / 'ca.key').read_text()
    assert (tmp_path / 'out' / 'webroot' / 'app' / 'v1-linux-amd64.aci.asc').exists()
    assert_no_secret(out, 'pki and publish roles')
