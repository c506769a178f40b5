#!/usr/bin/python
# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: x509_cert
short_description: Maintain a private key with an X.509 certificate or a certificate signing request
version_added: 0.1.0
description:
  - Keeps a private key and an X.509 certificate (or a certificate signing request) in line with
    the task, using the Python C(cryptography) library. Four kinds are supported, see O(kind).
  - A file is left alone when it already says what the task asks for. A certificate is reissued
    when it is missing or unreadable, does not match its key, has a different subject, subject
    alternative names, key usages or CA flag, was not signed by the given CA (the signature is
    checked, not just the issuer name), or expires within O(renew_before_days). The words for
    these are returned in RV(reasons).
  - Changing only O(valid_days) does not reissue a certificate; the new validity applies the next
    time it is issued for another reason (use O(force) to reissue now).
  - The private key is kept as long as it has the requested type and size. A missing key, or one of
    another type or size, is replaced by a new one (keep the old one with O(backup)). Giving
    O(privatekey_passphrase) for a key stored in clear encrypts that same key.
  - Bad input (a malformed subject alternative name, a CA key that does not belong to the CA
    certificate, a CA certificate without C(CA:TRUE), a wrong or missing passphrase, an unreadable
    path, an unsupported key) fails with a message saying what is wrong, before any file is written.
  - New certificates start one hour in the past so that hosts with slightly slow clocks accept them.
  - A CA made elsewhere (kept in a vault or an AWX credential, for controllers that start afresh on every
    run) is given as O(content) and O(privatekey_content) instead; see O(kind).
  - Works with C(cryptography) 3.4.8 and later on the host where the module runs, so with the
    C(python3-cryptography) of Ubuntu 22.04 (3.4.8), RHEL 9 (36.0.1), Debian 12 (38.0.4) and Ubuntu
    24.04 (41.0.7). An older one fails the task with a message naming the version found.
author:
  - aci.registry maintainers (!UNKNOWN)
requirements:
  - cryptography >= 3.4.8
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows parsed facts (subject, SANs, issuer, validity, serial, fingerprints), never key bytes.
  platform:
    platforms: posix
  safe_file_operations:
    description: Writes through a temporary file that is renamed into place, with its attributes applied first.
    support: full
options:
  kind:
    description:
      - V(ca) maintains a self-signed CA certificate (C(CA:TRUE), keyUsage C(keyCertSign) and
        C(cRLSign), optional O(path_length)) at O(path) with its key at O(privatekey_path).
        With O(content) and O(privatekey_content) it writes that CA there instead, and never makes or
        renews one.
      - V(leaf) maintains a certificate at O(path) for the key at O(privatekey_path), signed with
        O(ca_cert_path) and O(ca_privatekey_path).
      - V(csr) maintains a certificate signing request at O(csr_path) for the key at
        O(privatekey_path), to be signed elsewhere (the key never has to leave the host).
      - V(sign) maintains a certificate at O(path) for the public key in the request O(csr_src),
        signed with O(ca_cert_path) and O(ca_privatekey_path). O(subject) and O(subject_alt_names)
        default to what the request asks for; when given, they win over it.
    type: str
    required: true
    choices: [ca, leaf, csr, sign]
  path:
    description:
      - The certificate file (kinds V(ca), V(leaf) and V(sign)). Mode V(0644) unless O(mode) is set.
    type: path
  privatekey_path:
    description:
      - The private key file (kinds V(ca), V(leaf) and V(csr)), created when missing, in PKCS#8 PEM.
      - Its mode is O(privatekey_mode), not O(mode); O(owner) and O(group) apply to it too.
    type: path
  privatekey_passphrase:
    description:
      - Passphrase that encrypts the private key at O(privatekey_path). Without it the key is stored in clear.
      - With O(privatekey_content), also the passphrase that decrypts that key when it is encrypted.
    type: str
  privatekey_mode:
    description:
      - Permissions of the private key file, like O(mode). V(0600) when not set.
    type: raw
  key_type:
    description:
      - Type of the private key to keep or create.
    type: str
    choices: [rsa, ecdsa, ed25519]
    default: rsa
  key_size:
    description:
      - Size of an RSA key in bits. V(3072) when not set. Only for O(key_type=rsa).
    type: int
    choices: [2048, 3072, 4096]
  key_curve:
    description:
      - Curve of an ECDSA key. V(P-256) when not set. Only for O(key_type=ecdsa).
    type: str
    choices: [P-256, P-384]
  content:
    description:
      - The PEM text of a CA certificate to keep at O(path) (kind V(ca)), instead of making one. Needs
        O(privatekey_content).
      - It is checked before anything is written - C(CA:TRUE), C(keyCertSign) in its keyUsage when it has
        one, not expired, and for the key in O(privatekey_content). It warns when the certificate expires within
        O(renew_before_days), since it is never renewed here.
      - Files that already hold this certificate and key are left alone (the key file is compared by key,
        not bytes), so this is idempotent. Otherwise they are replaced (keep the old ones with O(backup)),
        for the reasons V(content_changed) and V(key_changed).
      - Mutually exclusive with the options that describe a CA to make - O(subject),
        O(subject_alt_names), O(key_type), O(key_size), O(key_curve), O(path_length), O(valid_days) and
        O(force).
    type: str
    version_added: 0.2.0
  privatekey_content:
    description:
      - The PEM text of the private key of O(content) (kind V(ca)), PKCS#8 or traditional, in clear or
        encrypted with O(privatekey_passphrase).
      - Written to O(privatekey_path) in PKCS#8, encrypted with O(privatekey_passphrase) when that is
        set. Never logged, returned or shown in a diff.
    type: str
    version_added: 0.2.0
  csr_path:
    description:
      - The certificate signing request file (kind V(csr)). Mode V(0644) unless O(mode) is set.
    type: path
  csr_src:
    description:
      - A PEM certificate signing request to sign (kind V(sign)), on the host where the module runs.
      - Its signature must be valid, and its key RSA of 2048 bits or more, ECDSA P-256/P-384 or Ed25519.
    type: path
  ca_cert_path:
    description:
      - The CA certificate that signs (kinds V(leaf) and V(sign)). It must have C(CA:TRUE) and, if it
        has a keyUsage, C(keyCertSign).
    type: path
  ca_privatekey_path:
    description:
      - The CA's private key (kinds V(leaf) and V(sign)). It must belong to O(ca_cert_path).
    type: path
  ca_privatekey_passphrase:
    description:
      - Passphrase of O(ca_privatekey_path) when it is encrypted.
    type: str
  subject:
    description:
      - Subject of the certificate or request. A CA needs O(subject.common_name); other kinds need
        O(subject.common_name) or O(subject_alt_names).
    type: dict
    suboptions:
      common_name:
        description: Common name (CN).
        type: str
      organization:
        description: Organization (O).
        type: str
      organizational_unit:
        description: Organizational unit (OU).
        type: str
      country:
        description: Two-letter country code (C).
        type: str
      state_or_province:
        description: State or province (ST).
        type: str
      locality:
        description: Locality (L).
        type: str
      email_address:
        description: Email address (emailAddress).
        type: str
  subject_alt_names:
    description:
      - Subject alternative names, each V(DNS:name), V(IP:address) or V(email:address). A value
        without a type is an IP address if it parses as one, an email address if it has an C(@),
        and a DNS name otherwise.
      - DNS names are compared in lower case; write internationalized names in their C(xn--) form.
        A wildcard is allowed as the whole first label (V(DNS:*.example.com)).
      - Order and duplicates do not matter.
    type: list
    elements: str
  extended_key_usage:
    description:
      - Extended key usages of a V(leaf), V(csr) or V(sign) certificate. V([server_auth]) when not
        set; V([]) leaves the extension out. The key usage follows from the key type
        (C(digitalSignature), plus C(keyEncipherment) for RSA).
    type: list
    elements: str
    choices: [server_auth, client_auth]
  path_length:
    description:
      - Maximum number of intermediate CAs below a V(ca). Unlimited when not set.
    type: int
  valid_days:
    description:
      - Days a newly issued certificate is valid. Changing it alone does not reissue (see above).
    type: int
    default: 365
  renew_before_days:
    description:
      - Reissue the certificate when it expires within this many days (or has expired).
    type: int
    default: 30
  force:
    description:
      - Reissue the certificate or request even if it is fine. The private key is kept.
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of each file (key, certificate, request) before it is replaced.
    type: bool
    default: false
notes:
  - O(mode) applies to the certificate or request, O(privatekey_mode) to the key; O(owner),
    O(group) and the SELinux options apply to both.
  - A certificate that would outlive its CA is issued with a warning.
seealso:
  - name: cryptography
    description: The Python library this module is built on.
    link: https://cryptography.io/
"""

EXAMPLES = r"""
- name: Keep a CA on the controller
  aci.registry.x509_cert:
    kind: ca
    path: /srv/pki/ca.pem
    privatekey_path: /srv/pki/ca.key
    privatekey_passphrase: "{{ vault_ca_passphrase }}"
    subject:
      common_name: Example registry CA
      organization: Example
    valid_days: 3650
    renew_before_days: 180
  delegate_to: localhost
  run_once: true

- name: Keep a CA made elsewhere, from a vault, where the controller starts empty on every run (AWX)
  aci.registry.x509_cert:
    kind: ca
    path: /srv/pki/ca.pem
    privatekey_path: /srv/pki/ca.key
    content: "{{ vault_ca_certificate }}"
    privatekey_content: "{{ vault_ca_privatekey }}"
    privatekey_passphrase: "{{ vault_ca_passphrase }}"
  delegate_to: localhost
  run_once: true
  no_log: true

- name: Make this host's key and a signing request; the key stays here
  aci.registry.x509_cert:
    kind: csr
    privatekey_path: /etc/aci-registry/tls/server.key
    csr_path: /etc/aci-registry/tls/server.csr
    key_type: ecdsa
    subject:
      common_name: "{{ inventory_hostname }}"
    subject_alt_names:
      - "DNS:{{ inventory_hostname }}"
      - "IP:{{ ansible_facts['default_ipv4']['address'] }}"

- name: Sign a request fetched to the controller
  aci.registry.x509_cert:
    kind: sign
    csr_src: /srv/pki/csr/{{ inventory_hostname }}.csr
    path: /srv/pki/issued/{{ inventory_hostname }}.pem
    ca_cert_path: /srv/pki/ca.pem
    ca_privatekey_path: /srv/pki/ca.key
    ca_privatekey_passphrase: "{{ vault_ca_passphrase }}"
    valid_days: 365
    renew_before_days: 30
  delegate_to: localhost

- name: Key and certificate in one step, signed by a local CA, for servers and clients
  aci.registry.x509_cert:
    kind: leaf
    path: /etc/ssl/local/mirror.pem
    privatekey_path: /etc/ssl/local/mirror.key
    key_type: rsa
    key_size: 4096
    ca_cert_path: /etc/ssl/local/ca.pem
    ca_privatekey_path: /etc/ssl/local/ca.key
    subject_alt_names: [mirror.example.com, 192.0.2.10]
    extended_key_usage: [server_auth, client_auth]
    owner: root
    group: www-data
    privatekey_mode: "0640"
  register: mirror_cert

- name: Say why it was reissued
  ansible.builtin.debug:
    msg: "{{ mirror_cert.reasons }}"
  when: mirror_cert.changed
"""

RETURN = r"""
reasons:
  description:
    - Why files were (or in check mode would be) replaced; empty when they were fine.
    - For the key V(key_missing), V(key_type_changed) or V(key_encryption_changed); for the certificate
      or request V(missing), V(invalid), V(forced), V(key_mismatch), V(subject_changed), V(san_changed),
      V(usage_changed), V(ca_changed), V(issuer_changed) or V(expiring).
    - For a CA given as O(content), also V(key_changed) (the key file holds another key than
      O(privatekey_content)) and V(content_changed) (the certificate file holds another certificate).
  returned: always
  type: list
  elements: str
  sample: [expiring]
kind:
  description: The O(kind) that ran.
  returned: always
  type: str
  sample: sign
path:
  description: The certificate file.
  returned: when O(kind) is V(ca), V(leaf) or V(sign)
  type: str
  sample: /srv/pki/issued/registry1.pem
csr_path:
  description: The certificate signing request file.
  returned: when O(kind=csr)
  type: str
  sample: /etc/aci-registry/tls/server.csr
privatekey_path:
  description: The private key file.
  returned: when O(kind) is V(ca), V(leaf) or V(csr)
  type: str
  sample: /etc/aci-registry/tls/server.key
backup_file:
  description: Copy of the certificate or request made before it was replaced.
  returned: when O(backup=true) and a file was replaced
  type: str
  sample: /srv/pki/ca.pem.12345.2026-01-01@10:00:00~
privatekey_backup_file:
  description: Copy of the private key made before it was replaced.
  returned: when O(backup=true) and the key file was replaced
  type: str
  sample: /srv/pki/ca.key.12345.2026-01-01@10:00:00~
subject:
  description: Subject (RFC 4514). In check mode, of the file as it is.
  returned: when the certificate or request exists
  type: str
  sample: CN=registry1.example.com,O=Example
issuer:
  description: Issuer (RFC 4514).
  returned: when the certificate exists
  type: str
  sample: CN=Example registry CA
subject_alt_names:
  description: Subject alternative names, sorted, as V(DNS:...), V(IP:...) or V(email:...).
  returned: when the certificate or request exists
  type: list
  elements: str
  sample: ["DNS:registry1.example.com", "IP:192.0.2.10"]
serial:
  description: Serial number in hexadecimal, as C(openssl x509 -serial) prints it.
  returned: when the certificate exists
  type: str
  sample: 3A1F0C...
fingerprint:
  description: SHA-256 fingerprint of the certificate, colon-separated, as C(openssl x509 -fingerprint -sha256) prints it.
  returned: when the certificate exists
  type: str
  sample: "AB:CD:..."
not_before:
  description: Start of validity, UTC, ISO 8601.
  returned: when the certificate exists
  type: str
  sample: "2026-01-01T09:00:00Z"
not_after:
  description: End of validity, UTC, ISO 8601.
  returned: when the certificate exists
  type: str
  sample: "2027-01-01T10:00:00Z"
is_ca:
  description: Whether the certificate has C(CA:TRUE).
  returned: when the certificate exists
  type: bool
path_length:
  description: The CA's path length constraint, or null.
  returned: when the certificate exists
  type: int
key_usage:
  description: Key usages of the certificate.
  returned: when the certificate exists
  type: list
  elements: str
  sample: [digital_signature]
extended_key_usage:
  description: Extended key usages of the certificate or request.
  returned: when the certificate or request exists
  type: list
  elements: str
  sample: [server_auth]
public_key:
  description: The certified (or requested) public key, described without its bytes.
  returned: when the key, certificate or request exists
  type: dict
  contains:
    type:
      description: V(rsa), V(ecdsa) or V(ed25519).
      type: str
    size:
      description: RSA key size in bits.
      type: int
      returned: for RSA keys
    curve:
      description: ECDSA curve.
      type: str
      returned: for ECDSA keys
    fingerprint:
      description: SHA-256 of the DER SubjectPublicKeyInfo, colon-separated; unchanged when only the certificate is reissued.
      type: str
  sample: {type: ecdsa, curve: P-256, fingerprint: "12:34:..."}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aci.registry.plugins.module_utils import converge, x509, x509_cert_state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kind=dict(type='str', required=True, choices=list(x509_cert_state.KINDS)),
            path=dict(type='path'),
            privatekey_path=dict(type='path', no_log=False),
            privatekey_passphrase=dict(type='str', no_log=True),
            privatekey_mode=dict(type='raw', no_log=False),
            key_type=dict(type='str', default='rsa', choices=list(x509.KEY_TYPES), no_log=False),
            key_size=dict(type='int', choices=list(x509.RSA_KEY_SIZES), no_log=False),
            key_curve=dict(type='str', choices=sorted(x509.CURVES), no_log=False),
            csr_path=dict(type='path'),
            csr_src=dict(type='path'),
            ca_cert_path=dict(type='path'),
            ca_privatekey_path=dict(type='path', no_log=False),
            ca_privatekey_passphrase=dict(type='str', no_log=True),
            subject=dict(type='dict', options=dict(
                common_name=dict(type='str'),
                organization=dict(type='str'),
                organizational_unit=dict(type='str'),
                country=dict(type='str'),
                state_or_province=dict(type='str'),
                locality=dict(type='str'),
                email_address=dict(type='str'),
            )),
            subject_alt_names=dict(type='list', elements='str'),
            extended_key_usage=dict(type='list', elements='str', choices=list(x509.EXTENDED_KEY_USAGES), no_log=False),
            path_length=dict(type='int'),
            valid_days=dict(type='int', default=365),
            renew_before_days=dict(type='int', default=30),
            force=dict(type='bool', default=False),
            backup=dict(type='bool', default=False),
            content=dict(type='str'),
            privatekey_content=dict(type='str', no_log=True),
        ),
        required_together=[('content', 'privatekey_content')],
        # Checked before defaults apply: only a key_type or valid_days the task sets conflicts.
        mutually_exclusive=[('content', option) for option in x509_cert_state.CONTENT_CONFLICTS],
        required_if=[
            ('kind', 'ca', ('path', 'privatekey_path')),
            ('kind', 'leaf', ('path', 'privatekey_path', 'ca_cert_path', 'ca_privatekey_path')),
            ('kind', 'csr', ('csr_path', 'privatekey_path')),
            ('kind', 'sign', ('path', 'csr_src', 'ca_cert_path', 'ca_privatekey_path')),
        ],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    x509.require_cryptography(module)
    converge.run(module, x509_cert_state.resource(module))


if __name__ == '__main__':
    main()
