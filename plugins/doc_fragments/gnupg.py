# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that use a GnuPG home: aci.registry.gpg_key and aci.registry.aci_sign."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  gnupghome:
    description:
      - The GnuPG home directory (C(GNUPGHOME)) that holds the signing key, on the managed host.
      - Meant to be dedicated to signing ACIs, for example C(/var/lib/aci-registry/gnupg), not a
        person's C(~/.gnupg).
      - M(aci.registry.gpg_key) creates it with mode C(0700) when missing, together with a C(gpg-agent.conf)
        that stops gpg-agent from caching passphrases (so that a wrong passphrase is always noticed and no
        passphrase outlives a run in a background agent), and tightens the mode of an existing home to
        C(0700). An existing home keeps its own C(gpg-agent.conf).
      - Keep the path short (under about 80 characters) when the host has no C(/run/user/<uid>)
        directory, since gpg-agent then puts its sockets in this directory, and Unix socket paths are
        limited to about 100 characters.
    type: path
    required: true
  passphrase:
    description:
      - The passphrase of the secret key. Leave it unset for a key without passphrase.
      - M(aci.registry.gpg_key) protects a new key with it, and checks on every run that it unlocks the
        existing key, or the key it imports (C(secret_key)). It is required there unless C(unprotected=true).
      - M(aci.registry.aci_sign) needs it to sign with a protected key.
      - Given to gpg on its standard input through loopback pinentry (C(--pinentry-mode loopback)),
        never on a command line, and never logged or returned.
      - A single line without leading or trailing whitespace.
    type: str
requirements:
  - GnuPG 2.2 or later (C(gpg)) on the managed host (Debian package C(gnupg))
  - python-gnupg 0.4.9 or later on the managed host (Debian package C(python3-gnupg))
"""
