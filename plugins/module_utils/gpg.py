# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that talks to ``gpg`` (GnuPG 2.2+), through python-gnupg.

Works with python-gnupg 0.4.9 (Debian 12's ``python3-gnupg``) and 0.5.x. Every function raises
:class:`GpgError` (or its subclass :class:`SignatureError`) with a message meant for a human;
modules turn that into ``fail_json``. Nothing here needs an ``AnsibleModule``, so other modules
(and ``verify_detached`` callers such as ``aci_fetch``) can reuse it as they are.

Passphrases only ever travel on gpg's standard input (``--pinentry-mode loopback
--passphrase-fd 0``, or the key-generation parameters that are also read from stdin), never on a
command line; python-gnupg's own logger is muted because at debug level it logs data chunks,
which include exported secret keys.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
import logging
import os
import re
import hashlib
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import gnupg
except ImportError:
    HAS_GNUPG = False
    GNUPG_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_GNUPG = True
    GNUPG_IMPORT_ERROR = None

# The keys gpg_key makes, named like gpg's --quick-gen-key does. rkt 1.30 vendors a 2016
# golang.org/x/crypto/openpgp that reads only RSA and DSA keys (ECDSA: "primary key cannot be
# used for signatures", EdDSA: "unsupported feature"), and DSA is no choice for a new key. Newer
# x/crypto reads ECDSA, so only the real rkt can tell what works: tests/unit run it.
ALGORITHMS = {
    'rsa2048': dict(key_type='RSA', key_size=2048),
    'rsa3072': dict(key_type='RSA', key_size=3072),
    'rsa4096': dict(key_type='RSA', key_size=4096),
}
DEFAULT_ALGORITHM = 'rsa4096'
# Kept as module choices so that asking for one gets the reason, not "must be one of".
REFUSED_ALGORITHMS = ('nistp256', 'nistp384', 'ed25519', 'cv25519')
RKT_CANNOT_READ = ("rkt 1.30's OpenPGP library (golang.org/x/crypto/openpgp of 2016) reads only RSA and DSA "
                   "keys, so rkt could never verify signatures by {0} keys; use an RSA key ({1}).")

# OpenPGP public-key algorithm ids (RFC 4880 9.1, RFC 6637, draft-ietf-openpgp-rfc4880bis).
_ALGO_NAMES = {1: 'RSA', 2: 'RSA', 3: 'RSA', 16: 'ELG', 17: 'DSA', 18: 'ECDH', 19: 'ECDSA', 22: 'EdDSA'}
_RKT_KEY_TYPES = ('RSA', 'DSA')

# A dedicated GNUPGHOME must not keep passphrases in a running gpg-agent: a cached passphrase
# would let a wrong one "work" and would outlive the play on the host.
AGENT_CONF = ('# Written by aci.registry: never cache passphrases in this signing-only home.\n'
              'default-cache-ttl 0\nmax-cache-ttl 0\n')

_FPR_RE = re.compile(r'^[0-9A-F]{40}$')
_PERIOD_RE = re.compile(r'^([0-9]+)([dwmy]?)$')
_DATE_RE = re.compile(r'^([0-9]{4})-([0-9]{2})-([0-9]{2})$')
# gpg's units (g10/keygen.c check_valid_days): a month is 30 days and a year 365.
_UNIT_SECONDS = {'': 86400, 'd': 86400, 'w': 7 * 86400, 'm': 30 * 86400, 'y': 365 * 86400}
# Different ways of computing "now" (gpg, this host) must not make an expiry look changed.
EXPIRY_TOLERANCE = 3600

# gpg-error codes (libgpg-error's err-codes.h) that deserve a plain-language message.
_ERR_BAD_PASSPHRASE = 11
_ERR_NO_SECKEY = 17
_ERR_UNUSABLE_SECKEY = 54
_ERR_NO_PASSPHRASE = 67
_ERR_CANCELED = 99


class GpgError(Exception):
    """A gpg operation failed; ``str()`` is the message for the user, ``stderr`` gpg's words."""

    def __init__(self, msg, stderr=None):
        super().__init__(msg)
        self.stderr = stderr


class SignatureError(GpgError):
    """A signature does not verify (bad, made by another key, not a signature at all...)."""


class RktSignatureError(SignatureError):
    """A signature gpg accepts and rkt does not: re-signing the same file makes a good one."""


class RktKeyError(GpgError):
    """A key rkt cannot read: no signature by it will ever verify for rkt, whatever gpg says."""


def require_gnupg(module):
    """Fail the module with the usual "missing library" message when python-gnupg is absent."""
    if not HAS_GNUPG:
        module.fail_json(msg=missing_required_lib('python-gnupg (Debian: python3-gnupg)'),
                         exception=GNUPG_IMPORT_ERROR)


def _require_gnupg():
    if not HAS_GNUPG:
        raise GpgError(missing_required_lib('python-gnupg (Debian: python3-gnupg)'))


# --- parameters ------------------------------------------------------------------------------

def normalize_fingerprint(value):
    """``value`` as 40 upper-case hex digits (spaces and a ``0x`` prefix dropped), or GpgError."""
    fpr = re.sub(r'\s+', '', value or '').upper()
    if fpr.startswith('0X'):
        fpr = fpr[2:]
    if not _FPR_RE.match(fpr):
        raise GpgError('%r is not an OpenPGP v4 fingerprint (40 hexadecimal digits); key ids are '
                       'too short to name a key safely.' % (value,))
    return fpr


def check_algorithm(algorithm):
    """Raise GpgError for algorithms rkt cannot verify (ECDSA, EdDSA, cv25519, anything unknown)."""
    if algorithm in ALGORITHMS:
        return
    choices = ', '.join(ALGORITHMS)
    if algorithm in REFUSED_ALGORITHMS:
        raise GpgError(RKT_CANNOT_READ.format(algorithm, choices))
    raise GpgError('Unknown algorithm %r; use one of: %s' % (algorithm, choices))


def check_passphrase_text(passphrase):
    """Raise GpgError for passphrases that cannot travel intact as one line to gpg."""
    if passphrase is None:
        return
    if passphrase == '':
        raise GpgError('passphrase is empty; for a key without a passphrase set unprotected=true instead.')
    if any(c in passphrase for c in '\r\n\x00'):
        raise GpgError('passphrase must not contain line breaks or NUL characters '
                       '(gpg reads the passphrase as a single line).')
    if passphrase != passphrase.strip():
        # gpg's key-generation parameter parser trims the value: the key would get another passphrase.
        raise GpgError('passphrase must not start or end with whitespace (gpg would silently trim it).')


def build_uid(name_real, name_email=None, name_comment=None):
    """The user id gpg makes from the three fields: ``Name (Comment) <email>``.

    Raises GpgError for values that would break the uid or the key-generation parameters.
    """
    for label, value in (('name_real', name_real), ('name_email', name_email), ('name_comment', name_comment)):
        if value is None:
            continue
        if not value.strip():
            raise GpgError('%s must not be empty.' % label)
        if value != value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise GpgError('%s must not contain control characters or leading/trailing whitespace.' % label)
    if not name_real:
        raise GpgError('name_real is required to build the key\'s user id.')
    if any(c in name_real for c in '<>()'):
        raise GpgError('name_real must not contain "<", ">", "(" or ")"; they delimit the email and '
                       'comment parts of a user id.')
    if name_comment is not None and any(c in name_comment for c in '()<>'):
        raise GpgError('name_comment must not contain parentheses or angle brackets.')
    if name_email is not None and not re.match(r'^[^@\s<>()]+@[^@\s<>()]+$', name_email):
        raise GpgError('name_email %r is not a plain mail address (local@domain).' % (name_email,))
    uid = name_real
    if name_comment:
        uid += ' (%s)' % name_comment
    if name_email:
        uid += ' <%s>' % name_email
    return uid


def parse_expire(expire, now=None):
    """Parse an ``expire`` option: ``never``/``0``, a period ``N``/``Nd``/``Nw``/``Nm``/``Ny``, or
    a date ``YYYY-MM-DD``.

    Returns a dict with ``kind`` (``never``, ``period`` or ``date``), ``gpg`` (the value for gpg's
    ``Expire-Date``), and ``seconds`` (period length) or ``at`` (epoch, noon UTC of the date, as
    gpg computes it). Raises GpgError for anything else and for dates not in the future.
    """
    value = str(expire).strip().lower()
    if value in ('never', '0', 'none'):
        return dict(kind='never', gpg='0')
    m = _PERIOD_RE.match(value)
    if m:
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        if seconds == 0:
            return dict(kind='never', gpg='0')
        return dict(kind='period', gpg=value, seconds=seconds)
    m = _DATE_RE.match(value)
    if m:
        try:
            day = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as e:
            raise GpgError('expire %r is not a valid date: %s' % (expire, e))
        at = calendar.timegm(day.timetuple()) + 43200
        if at <= (now or time.time()):
            raise GpgError('expire %r is not in the future.' % (expire,))
        return dict(kind='date', gpg=value, at=at)
    raise GpgError('expire %r is not understood; use "never", a period such as 365d, 52w, 12m or 2y, '
                   'or a date YYYY-MM-DD.' % (expire,))


def wanted_expiry(expire, created):
    """The epoch at which a key created at ``created`` should expire per ``parse_expire``; None = never."""
    if expire['kind'] == 'never':
        return None
    if expire['kind'] == 'period':
        return created + expire['seconds']
    return expire['at']


def same_expiry(actual, wanted):
    """Whether two expiries (epoch or None) are the same for idempotency purposes."""
    if actual is None or wanted is None:
        return actual is None and wanted is None
    return abs(actual - wanted) <= EXPIRY_TOLERANCE


def iso_time(epoch):
    """An epoch as ISO 8601 UTC (``2027-01-01T12:00:00Z``), None stays None."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


# --- the GNUPGHOME ----------------------------------------------------------------------------

def prepare_home(path, check_mode=False):
    """Make ``path`` a usable GNUPGHOME: create it 0700 (with an agent config that never caches
    passphrases) when missing, tighten its mode to 0700 when looser.

    Returns the list of things done (or that would be done in check mode): ``created``, ``mode``.
    An existing home keeps its own gpg-agent.conf.
    """
    changes = []
    if os.path.lexists(path) and not os.path.isdir(path):
        raise GpgError('gnupghome %s exists and is not a directory.' % path)
    if not os.path.isdir(path):
        changes.append('created')
        if check_mode:
            return changes
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise GpgError('Cannot create gnupghome %s: directory %s does not exist.' % (path, parent))
        try:
            os.mkdir(path, 0o700)
            os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
            _write_agent_conf(path)
        except OSError as e:
            raise GpgError('Cannot create gnupghome %s: %s' % (path, e))
        return changes
    if os.stat(path).st_mode & 0o077:
        changes.append('mode')
        if not check_mode:
            try:
                os.chmod(path, 0o700)
            except OSError as e:
                raise GpgError('Cannot set mode 0700 on gnupghome %s: %s' % (path, e))
    return changes


def _write_agent_conf(home):
    # Part of setting the home up, like gpg's own pubring.kbx: a fresh file in a fresh 0700 dir.
    fd = os.open(os.path.join(home, 'gpg-agent.conf'), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(AGENT_CONF)


def _silence_gnupg_logger():
    # At debug level python-gnupg logs data chunks (exported secret keys among them); with no
    # handler of its own, its warnings would reach stderr through logging's last resort.
    log = logging.getLogger('gnupg')
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    log.propagate = False


def _gpg(home, options=None):
    _require_gnupg()
    _silence_gnupg_logger()
    # Loopback on every call: gpg must never try to spawn a pinentry on a host without a user.
    opts = ['--pinentry-mode', 'loopback'] + list(options or [])
    try:
        gpg = gnupg.GPG(gnupghome=home, options=opts)
    except OSError as e:
        raise GpgError('Cannot run gpg: %s Install GnuPG 2.2 or later (Debian: gnupg).' % e)
    except ValueError as e:
        raise GpgError('Cannot use gnupghome %s: %s' % (home, e))
    if not getattr(gpg, 'version', None) or gpg.version < (2, 1):
        raise GpgError('gpg %s is too old: GnuPG 2.2 or later is required.'
                       % '.'.join(str(x) for x in (gpg.version or ('unknown',))))
    # gpg speaks UTF-8 (uids, key-generation parameters); python-gnupg's default is Latin-1.
    gpg.encoding = 'utf-8'
    return gpg


def has_keyring(path):
    """Whether the GNUPGHOME ``path`` holds a keyring yet (gpg makes one on first use, even to list keys).

    A keybox (GnuPG 2.1+), a legacy keyring, or keyboxd's database (GnuPG 2.4 with use-keyboxd).
    """
    names = ('pubring.kbx', 'pubring.gpg', os.path.join('public-keys.d', 'pubring.db'))
    return any(os.path.isfile(os.path.join(path, name)) for name in names)


# gpg-agent's sockets go into the home unless /run/user/<uid> exists, which it does not for root
# in CI, in containers or in AWX jobs; a Unix socket path holds about 107 bytes.
_AGENT_SOCKETS = ('S.gpg-agent', 'S.gpg-agent.extra', 'S.gpg-agent.browser', 'S.gpg-agent.ssh')
_SOCKET_PATH_MAX = 100


def _private_dir(path):
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise GpgError('%s should be a private directory of this user for gpg-agent\'s sockets, and is '
                       'not: remove it and run again.' % path)


def redirect_agent_sockets(home):
    """When ``home`` is too deep for gpg-agent's sockets, put them in a short private directory.

    gpg (libassuan) follows a regular file ``S.gpg-agent`` holding ``%Assuan%`` and ``socket=``
    to the real socket, for the agent and its clients alike. The redirect files stand where gpg
    would put its sockets anyway, so a dry run may write them too.
    """
    home = os.path.abspath(home)
    if len(os.fsencode(os.path.join(home, max(_AGENT_SOCKETS, key=len)))) <= _SOCKET_PATH_MAX:
        return
    digest = hashlib.sha256(os.fsencode(home)).hexdigest()[:16]
    sockets = os.path.join(os.environ.get('XDG_RUNTIME_DIR') or tempfile.gettempdir(),
                           'aci-gpg-%d-%s' % (os.geteuid(), digest))
    try:
        _private_dir(sockets)
        for name in _AGENT_SOCKETS:
            path = os.path.join(home, name)
            redirect = '%%Assuan%%\nsocket=%s\n' % os.path.join(sockets, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path) as f:
                    if f.read() == redirect:
                        continue
            fd, tmp = tempfile.mkstemp(dir=home, prefix='.%s.' % name)
            with os.fdopen(fd, 'w') as f:
                f.write(redirect)
            os.replace(tmp, path)
    except OSError as e:
        raise GpgError('Cannot point gpg-agent\'s sockets for %s at %s: %s' % (home, sockets, e))


def open_home(path):
    """A ``gnupg.GPG`` handle on the existing GNUPGHOME ``path`` (GpgError when missing)."""
    if not os.path.isdir(path):
        raise GpgError('gnupghome %s does not exist.' % path)
    redirect_agent_sockets(path)
    return _gpg(path)


@contextlib.contextmanager
def scratch_home(options=None, agent=False):
    """A handle on a new, private (0700), empty GNUPGHOME, removed with everything in it afterwards.

    Key data is read there without touching any other home. With ``agent`` gpg-agent may start
    (secret keys, signing); it caches no passphrase and is stopped before the home goes.
    """
    # A short name: gpg-agent's sockets go into the home, and Unix socket paths hold ~100 bytes.
    home = tempfile.mkdtemp(prefix='gpgs.')
    handle = None
    try:
        if agent:
            _write_agent_conf(home)
            redirect_agent_sockets(home)
        handle = _gpg(home, options)
        yield handle
    finally:
        if agent and handle is not None:
            _stop_agent(handle)
        shutil.rmtree(home, ignore_errors=True)


def _stop_agent(gpg):
    # An agent whose home is gone exits by itself within a minute; holding a secret key, it had better not wait.
    found = shutil.which(gpg.gpgbinary)
    gpgconf = os.path.join(os.path.dirname(found), 'gpgconf') if found else None
    if not (gpgconf and os.access(gpgconf, os.X_OK)):
        gpgconf = shutil.which('gpgconf')
    if gpgconf:
        subprocess.run([gpgconf, '--homedir', gpg.gnupghome, '--kill', 'gpg-agent'], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=getattr(gpg, 'env', None), check=False)


# --- gpg's answers ----------------------------------------------------------------------------

def _status(stderr):
    """``[(KEYWORD, value)]`` from gpg's ``--status-fd 2`` lines in ``stderr``."""
    out = []
    for line in (stderr or '').splitlines():
        if line.startswith('[GNUPG:] '):
            parts = line[9:].split(None, 1)
            if parts:
                out.append((parts[0], parts[1] if len(parts) > 1 else ''))
    return out


# gpg's chatter when it sets up a fresh home: no help in an error message.
_NOISE_RE = re.compile(r"^gpg: (keybox .* created|.*trustdb created|directory .* created|"
                       r"revocation certificate stored .*)$")


def _messages(stderr):
    """gpg's human-readable lines (no status lines, no set-up chatter, no repeats), joined."""
    lines = []
    for line in (stderr or '').splitlines():
        line = line.strip()
        if line and not line.startswith('[GNUPG:] ') and not _NOISE_RE.match(line) and line not in lines:
            lines.append(line)
    return '; '.join(lines)


def _error_codes(status):
    codes = []
    for key, value in status:
        if key in ('FAILURE', 'ERROR'):
            last = value.split()[-1] if value.split() else ''
            if last.isdigit():
                codes.append(int(last) & 0xFFFF)
    return codes


def _explain(stderr, what, fingerprint=None, had_passphrase=False):
    """Turn a failed gpg run into a GpgError with a plain-language message."""
    status = _status(stderr)
    keys = set(k for k, v in status)
    codes = _error_codes(status)
    text = stderr or ''
    key = 'key %s' % fingerprint if fingerprint else 'the key'
    if 'BAD_PASSPHRASE' in keys or _ERR_BAD_PASSPHRASE in codes:
        msg = 'wrong passphrase for %s.' % key
    elif "can't get input" in text or _ERR_NO_PASSPHRASE in codes or _ERR_CANCELED in codes:
        if had_passphrase:
            msg = 'gpg could not obtain the passphrase for %s.' % key
        else:
            msg = '%s is protected by a passphrase: give passphrase.' % key
    elif 'KEYEXPIRED' in keys:
        msg = '%s has expired.' % key
    elif 'KEYREVOKED' in keys:
        msg = '%s has been revoked.' % key
    elif _ERR_UNUSABLE_SECKEY in codes:
        msg = '%s is unusable for signing (expired, revoked or not signing-capable).' % key
    elif _ERR_NO_SECKEY in codes or 'NO_SECKEY' in keys:
        msg = 'no secret %s in this gnupghome.' % key
    elif 'too long' in text and 'socket' in text:
        msg = ('gpg-agent cannot create its socket: the gnupghome path is too long for a Unix '
               'socket (about 100 characters); use a shorter path.')
    else:
        msg = 'gpg failed.'
    detail = _messages(stderr)
    return GpgError('%s: %s%s' % (what, msg, (' (gpg said: %s)' % detail) if detail else ''), stderr=stderr)


def _run(gpg, args, passphrase=None, data=b''):
    """Run gpg the way python-gnupg does (its public ``make_args``), for what python-gnupg has no
    method for or does not feed a passphrase to. The passphrase is the first line of stdin
    (``--passphrase-fd 0``; gpg reads that line at start-up), ``data`` follows. Returns (rc, stderr)."""
    cmd = gpg.make_args(list(args), passphrase is not None)
    stdin = b'' if passphrase is None else (passphrase + '\n').encode('utf-8')
    proc = subprocess.run(cmd, input=stdin + data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=getattr(gpg, 'env', None), check=False)
    return proc.returncode, proc.stderr.decode('utf-8', 'replace')


# --- keys -------------------------------------------------------------------------------------

def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def algorithm_name(algo, size, curve):
    """A short name for a key's algorithm: ``rsa4096``, ``nistp256``, ``ed25519``, ``dsa2048``..."""
    kind = _ALGO_NAMES.get(_int(algo), 'algo%s' % algo)
    if curve:
        return curve.lower()
    return '%s%s' % (kind.lower(), size or '')


def _key_info(raw, secret_fprs):
    fpr = raw.get('fingerprint')
    algo = _int(raw.get('algo'))
    size = _int(raw.get('length'))
    curve = raw.get('curve') or None
    if curve == 'unavailable':
        curve = None
    validity = raw.get('trust') or ''
    expires = _int(raw.get('expires'))
    subkeys = []
    for sub in raw.get('subkeys') or []:
        sub_info = (raw.get('subkey_info') or {}).get(sub[0], {})
        subkeys.append(dict(key_id=sub[0], fingerprint=sub[2], capabilities=sub_info.get('cap') or sub[1] or '',
                            validity=sub_info.get('trust') or ''))
    return dict(
        fingerprint=fpr,
        key_id=raw.get('keyid'),
        uids=list(raw.get('uids') or []),
        uid=(raw.get('uids') or [None])[0],
        algorithm=algorithm_name(algo, size, curve),
        key_type=_ALGO_NAMES.get(algo, str(algo)),
        key_size=size,
        curve=curve,
        created=_int(raw.get('date')),
        expires=expires or None,
        validity=validity,
        expired=validity == 'e' or bool(expires and expires <= time.time()),
        revoked=validity == 'r',
        capabilities=raw.get('cap') or '',
        secret=fpr in secret_fprs,
        subkeys=subkeys,
    )


def list_keys(gpg):
    """Every key in the home as dicts: fingerprint, key_id, uids, uid, algorithm (``rsa4096``...),
    key_type (``RSA``/``ECDSA``...), key_size, curve, created/expires (epoch or None), validity,
    expired, revoked, capabilities, secret (a secret key is present), subkeys."""
    secret_fprs = set(k.get('fingerprint') for k in gpg.list_keys(secret=True))
    return [_key_info(raw, secret_fprs) for raw in gpg.list_keys()]


def get_key(gpg, fingerprint):
    """The key (as in ``list_keys``) whose primary or subkey fingerprint is ``fingerprint``, or None."""
    fpr = normalize_fingerprint(fingerprint)
    for key in list_keys(gpg):
        if key['fingerprint'] == fpr or any(s['fingerprint'] == fpr for s in key['subkeys']):
            return key
    return None


def find_keys_by_uid(gpg, uid):
    """Keys (as in ``list_keys``) that carry exactly the user id ``uid``."""
    return [k for k in list_keys(gpg) if uid in k['uids']]


def rkt_problem(key, gpg=None):
    """Why rkt could not verify signatures by ``key`` (a ``list_keys`` dict), or None when it can.

    With ``gpg`` (a handle on a home holding the key) the key's own self-signatures are read too:
    rkt refuses a whole key whose self-signature it cannot verify (see ``RKT_SHORT_SIGNATURE``)."""
    if key['key_type'] not in _RKT_KEY_TYPES:
        return RKT_CANNOT_READ.format(key['algorithm'], ', '.join(ALGORITHMS))
    if gpg is not None:
        bits = _short_self_signature(gpg, key)
        if bits:
            return RKT_SHORT_SELF_SIGNATURE % (bits, key['key_size'])
    return None


def _short_self_signature(gpg, key):
    """The bit length of a self-signature of ``key`` that rkt would fail, or None."""
    if key['key_type'] != 'RSA' or not key['key_size']:
        return None
    armored = gpg.export_keys(key['fingerprint'], armor=True, minimal=True)
    if isinstance(armored, str):
        armored = armored.encode('ascii')
    fd, path = tempfile.mkstemp(prefix='aci-key.')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(armored)
        return _short_rsa_value(gpg, path, key)
    finally:
        os.unlink(path)


def key_parameters(name_real, name_email=None, name_comment=None, algorithm=DEFAULT_ALGORITHM,
                   expire='never', passphrase=None):
    """The gpg ``--gen-key`` batch parameters for a sign-only primary key (no subkeys).

    They reach gpg on stdin, so the passphrase never shows on a command line. Without a
    passphrase the key is unprotected (``%no-protection``).
    """
    check_algorithm(algorithm)
    check_passphrase_text(passphrase)
    build_uid(name_real, name_email, name_comment)
    spec = ALGORITHMS[algorithm]
    lines = ['Key-Type: %s' % spec['key_type'], 'Key-Length: %d' % spec['key_size']]
    # Sign only: a registry key has no business encrypting, and rkt wants one signing key.
    lines.append('Key-Usage: sign')
    lines.append('Name-Real: %s' % name_real)
    if name_comment:
        lines.append('Name-Comment: %s' % name_comment)
    if name_email:
        lines.append('Name-Email: %s' % name_email)
    lines.append('Expire-Date: %s' % parse_expire(expire)['gpg'])
    lines.append('Passphrase: %s' % passphrase if passphrase else '%no-protection')
    lines.append('%commit')
    return '\n'.join(lines) + '\n'


def generate_key(gpg, name_real, name_email=None, name_comment=None, algorithm=DEFAULT_ALGORITHM,
                 expire='never', passphrase=None):
    """Generate a sign-only primary key; returns its fingerprint.

    ``algorithm`` is one of ``ALGORITHMS`` (``REFUSED_ALGORITHMS`` raise GpgError: rkt cannot read them).
    ``passphrase=None`` makes an unprotected key. GnuPG 2.2 draws from the kernel RNG
    (getrandom), so this does not block waiting for entropy.
    """
    params = key_parameters(name_real, name_email, name_comment, algorithm, expire, passphrase)
    for attempt in range(RKT_SIGNING_ATTEMPTS):
        fpr = _generate(gpg, params, passphrase)
        # A fresh key whose self-signature rkt cannot verify (as short signatures go, 1 key in
        # 128 to 256) is useless to rkt: it is deleted and another one made.
        if rkt_problem(get_key(gpg, fpr), gpg) is None or attempt + 1 == RKT_SIGNING_ATTEMPTS:
            return fpr
        delete_key(gpg, fpr)
    return fpr


def _generate(gpg, params, passphrase):
    # Not python-gnupg's gen_key: it cannot also hand gpg the passphrase on --passphrase-fd. The
    # "Passphrase:" parameter protects the new key, but gpg then asks the agent to unlock that key
    # again for its self-signature, and an agent that caches nothing (prepare_home) can only get
    # the passphrase back through loopback from gpg's static passphrase.
    rc, stderr = _run(gpg, ['--gen-key'], passphrase, params.encode('utf-8'))
    created = [v.split() for k, v in _status(stderr) if k == 'KEY_CREATED']
    if rc != 0 or not created or len(created[-1]) < 2:
        raise _explain(stderr, 'Key generation failed', had_passphrase=passphrase is not None)
    return created[-1][1].upper()


def check_new_expiry(fingerprint, expires):
    """Raise GpgError when ``expires`` (an epoch, None: never) cannot be set: it is in the past."""
    if expires is not None and expires <= time.time():
        raise GpgError('Cannot set the expiry of key %s to %s: that is in the past.' % (fingerprint, iso_time(expires)))


def set_expiry(gpg, fingerprint, expires, passphrase=None):
    """Set the primary key's expiry to the epoch ``expires`` (None: never expires)."""
    fpr = normalize_fingerprint(fingerprint)
    check_new_expiry(fpr, expires)
    when = '0' if expires is None else time.strftime('%Y%m%dT%H%M%S', time.gmtime(expires))
    check_passphrase_text(passphrase)
    rc, stderr = _run(gpg, ['--quick-set-expire', fpr, when], passphrase)
    if rc != 0:
        raise _explain(stderr, 'Changing the expiry of key %s failed' % fpr, fpr, passphrase is not None)


def check_passphrase(gpg, fingerprint, passphrase=None):
    """Raise GpgError unless ``passphrase`` (None: no passphrase) unlocks the key for signing.

    It signs a few bytes in memory, so it changes nothing. A gpg-agent that caches passphrases
    (not one of a home made by ``prepare_home``) may accept a wrong passphrase here.
    """
    fpr = normalize_fingerprint(fingerprint)
    check_passphrase_text(passphrase)
    result = gpg.sign(b'aci.registry passphrase check', keyid=None, passphrase=passphrase,
                      clearsign=False, detach=True, extra_args=['--local-user', fpr])
    if not getattr(result, 'data', None) or not getattr(result, 'fingerprint', None):
        raise _explain(result.stderr, 'Unlocking key %s failed' % fpr, fpr, passphrase is not None)


def export_public_key(gpg, fingerprint):
    """The ASCII-armored public key ``fingerprint``: exactly one key, self-signatures only
    (``export-minimal``), as rkt wants in a ``pubkeys.gpg``."""
    fpr = normalize_fingerprint(fingerprint)
    armored = gpg.export_keys(fpr, armor=True, minimal=True)
    if isinstance(armored, bytes):
        armored = armored.decode('ascii')
    if armored.count('-----BEGIN PGP PUBLIC KEY BLOCK-----') != 1:
        raise GpgError('Exporting public key %s failed: gpg returned %d keys.'
                       % (fpr, armored.count('-----BEGIN PGP PUBLIC KEY BLOCK-----')))
    return armored


def export_secret_key(gpg, fingerprint, passphrase=None):
    """The ASCII-armored secret key ``fingerprint`` (still protected by its passphrase).

    The bytes differ on every call (the agent re-encrypts with a fresh salt); compare backups
    with ``scan_key_file`` rather than byte for byte.
    """
    fpr = normalize_fingerprint(fingerprint)
    check_passphrase_text(passphrase)
    armored = gpg.export_keys(fpr, secret=True, armor=True, passphrase=passphrase, expect_passphrase=False)
    if isinstance(armored, bytes):
        armored = armored.decode('ascii')
    if '-----BEGIN PGP PRIVATE KEY BLOCK-----' not in armored:
        # python-gnupg keeps gpg's stderr to itself for exports; a signature attempt names the cause.
        check_passphrase(gpg, fpr, passphrase)
        raise GpgError('Exporting secret key %s failed.' % fpr)
    return armored


def scan_key_file(gpg, path):
    """The keys in the key file ``path`` without importing them: ``[{fingerprint, secret}]``."""
    return [dict(fingerprint=k.get('fingerprint'), secret=k.get('type') == 'sec') for k in gpg.scan_keys(path)]


def import_keys(gpg, data):
    """Import OpenPGP key data (armored or binary, str or bytes) into the home; returns the
    fingerprints of the primary keys it held, sorted (none: it held no key)."""
    result = gpg.import_keys(data)
    return sorted(set(f.upper() for f in (result.fingerprints or []) if f))


def import_secret_key(gpg, data, fingerprint):
    """Import the secret key ``fingerprint`` from ``data`` (already checked in a ``scratch_home``)."""
    fpr = normalize_fingerprint(fingerprint)
    result = gpg.import_keys(data)
    key = get_key(gpg, fpr)
    if key is None or not key['secret']:
        raise _explain(result.stderr, 'Importing secret key %s failed' % fpr, fpr)


def delete_key(gpg, fingerprint):
    """Delete the secret (if any) and public key ``fingerprint`` from the home."""
    fpr = normalize_fingerprint(fingerprint)
    key = get_key(gpg, fpr)
    if key is None:
        return
    if key['secret']:
        result = gpg.delete_keys(fpr, secret=True, expect_passphrase=False)
        if str(getattr(result, 'status', '')) != 'ok':
            raise _explain(result.stderr, 'Deleting secret key %s failed' % fpr, fpr)
    result = gpg.delete_keys(fpr)
    if str(getattr(result, 'status', '')) != 'ok':
        raise _explain(result.stderr, 'Deleting public key %s failed' % fpr, fpr)


# --- signatures -------------------------------------------------------------------------------

def sign_detached(gpg, fingerprint, data_path, passphrase=None):
    """A detached ASCII-armored signature of the file ``data_path`` by key ``fingerprint``.

    Returns ``(signature_bytes, signing_key_fingerprint)``; the latter is a subkey's fingerprint
    when gpg chose a signing subkey. The key is named with ``--local-user``: python-gnupg's
    ``keyid`` becomes ``--default-key``, which silently falls back to another key when the one
    named is unusable.
    """
    fpr = normalize_fingerprint(fingerprint)
    check_passphrase_text(passphrase)
    with open(data_path, 'rb') as f:
        result = gpg.sign_file(f, keyid=None, passphrase=passphrase, clearsign=False, detach=True,
                               binary=False, extra_args=['--local-user', fpr])
    data = getattr(result, 'data', None)
    signer = getattr(result, 'fingerprint', None)
    if not data or not signer or b'-----BEGIN PGP SIGNATURE-----' not in data:
        raise _explain(result.stderr, 'Signing %s failed' % data_path, fpr, passphrase is not None)
    return data, signer


def _verify_status(stderr):
    status = _status(stderr)
    keys = [k for k, v in status]
    values = dict((k, v) for k, v in status)
    verdicts = ('GOODSIG', 'BADSIG', 'ERRSIG', 'EXPKEYSIG', 'REVKEYSIG', 'EXPSIG')
    signatures = keys.count('NEWSIG') or len([k for k in keys if k in verdicts])
    if signatures == 0 or 'NODATA' in keys:
        raise SignatureError('the signature file holds no OpenPGP signature.', stderr=stderr)
    if signatures > 1:
        raise SignatureError('the signature file holds %d signatures; rkt checks exactly one.' % signatures,
                             stderr=stderr)
    if 'BADSIG' in keys:
        raise SignatureError('BAD signature: the file does not match the signature '
                             '(changed since it was signed, or the wrong file).', stderr=stderr)
    if 'REVKEYSIG' in keys:
        raise SignatureError('the signing key has been revoked.', stderr=stderr)
    if 'EXPKEYSIG' in keys:
        raise SignatureError('the signing key has expired.', stderr=stderr)
    if 'EXPSIG' in keys:
        raise SignatureError('the signature has expired.', stderr=stderr)
    if 'ERRSIG' in keys:
        parts = values['ERRSIG'].split()
        if 'NO_PUBKEY' in keys:
            signer = parts[6] if len(parts) > 6 else parts[0]
            raise SignatureError('the signature was made by key %s, not by the given public key.' % signer,
                                 stderr=stderr)
        raise SignatureError('the signature cannot be checked (unsupported algorithm or damaged).',
                             stderr=stderr)
    if 'GOODSIG' not in keys or 'VALIDSIG' not in keys:
        raise SignatureError('the signature does not verify.', stderr=stderr)
    parts = values['VALIDSIG'].split()
    # VALIDSIG's last field is the primary key's fingerprint, even for a subkey signature.
    return parts[-1].upper() if len(parts) >= 10 else parts[0].upper()


def verify_detached(pubkey_armored, data_path, sig_bytes):
    """Check a detached signature the way a client that trusts one published key does.

    ``pubkey_armored`` (str or bytes, armored or binary) must hold exactly one public key, as a
    registry's ``pubkeys.gpg`` (rkt reads only the first key of such a file). It is imported into
    a temporary, otherwise empty keyring; ``sig_bytes`` (armored or binary) must then be exactly
    one good signature of the file ``data_path`` by that key (or one of its subkeys). Trust
    settings play no part, and no gpg-agent is started.

    Returns the signer's primary-key fingerprint (40 upper-case hex digits). Raises
    ``SignatureError`` when the signature does not verify (message says why: bad signature,
    another key, expired or revoked key, not a signature), ``RktKeyError`` for a key rkt cannot
    read, and ``GpgError`` for any other problem (no such data file, not exactly one key, gpg
    missing).
    """
    with verifier(pubkey_armored) as check:
        return check.verify(data_path, sig_bytes)


@contextlib.contextmanager
def verifier(pubkey_armored):
    """A ``Verifier`` of signatures by the one key in ``pubkey_armored``, for as many files as needed.

    The key is imported and checked once (``GpgError``, ``RktKeyError`` as in ``verify_detached``):
    a set of images costs one gpg run per signature, not four.
    """
    _require_gnupg()
    if isinstance(pubkey_armored, str):
        pubkey_armored = pubkey_armored.encode('utf-8')
    with scratch_home(options=['--no-autostart', '--trust-model', 'always']) as gpg:
        imported = gpg.import_keys(pubkey_armored)
        fprs = sorted(set(f.upper() for f in (imported.fingerprints or []) if f))
        if len(fprs) != 1:
            raise GpgError('The public key data must hold exactly one OpenPGP public key (rkt reads only '
                           'the first key of a file); found %d.' % len(fprs), stderr=getattr(imported, 'stderr', None))
        # Every key we verify with passes here. gpg verifies ECDSA and EdDSA signatures that rkt
        # refuses, and where the two disagree about a key, rkt is the client that counts.
        key = _key_info(gpg.list_keys()[0], ())
        problem = rkt_problem(key, gpg)
        if problem:
            raise RktKeyError('key %s: %s' % (fprs[0], problem))
        yield Verifier(gpg, key, fprs[0])


class Verifier:
    """Checks detached signatures against one imported public key (made by ``verifier``)."""

    def __init__(self, gpg, key, fingerprint):
        self.gpg = gpg
        self.key = key
        self.fingerprint = fingerprint
        self._count = 0

    def verify(self, data_path, sig_bytes):
        """The signer's primary fingerprint if ``sig_bytes`` is one good signature of ``data_path``
        by the key, else ``SignatureError`` (``GpgError`` when there is no such file)."""
        if not os.path.isfile(data_path):
            raise GpgError('Cannot verify %s: no such file.' % data_path)
        if isinstance(sig_bytes, str):
            sig_bytes = sig_bytes.encode('utf-8')
        # A file of its own per signature: threads of one image set may verify at once.
        self._count += 1
        sig_path = os.path.join(self.gpg.gnupghome, 'sig.%d.%d' % (threading.get_ident(), self._count))
        with open(sig_path, 'wb') as f:
            f.write(sig_bytes)
        try:
            with open(sig_path, 'rb') as sig:
                result = self.gpg.verify_file(sig, data_filename=os.path.abspath(data_path))
            signer = _verify_status(result.stderr)
            if signer != self.fingerprint:
                raise SignatureError('the signature was made by key %s, not by the given public key %s.'
                                     % (signer, self.fingerprint), stderr=result.stderr)
            _check_rkt_signature_length(self.gpg, sig_path, self.key)
        finally:
            os.unlink(sig_path)
        return signer


# rkt 1.30's 2016 openpgp hands Go's crypto/rsa the signature value as OpenPGP stores it, without
# leading zero bytes, and Go 1.19's rsa.VerifyPKCS1v15 wants exactly the modulus's length. So an
# RSA signature whose value begins with a zero byte (1 in 256 to 1 in 128, by the modulus)
# verifies with gpg and fails in rkt with "RSA verification failure". Measured with the real rkt:
# 2040 bits of a 2048-bit key fail, 2042 and 2043 pass.
RKT_SHORT_SELF_SIGNATURE = ('its self-signature (made by gpg when the key was made) is %d bits, shorter than '
                            'the %d-bit key by a whole byte: rkt 1.30 cannot verify it and so refuses the whole '
                            'key ("user ID self-signature invalid"); make a new key')
RKT_SHORT_SIGNATURE = ('the RSA signature value is %d bits, shorter than the %d-bit key by a whole byte: gpg '
                       'accepts it, rkt 1.30 fails it with "RSA verification failure" (about 1 signature in 200 '
                       'is so); sign the file again')
_SIG_VALUE_RE = re.compile(r'^\s*data: \[([0-9]+) bits\]')


def _signature_value_bits(gpg, sig_path):
    """The bit length of each signature packet's first value in ``sig_path`` (gpg --list-packets)."""
    proc = subprocess.run(gpg.make_args(['--list-packets', sig_path], False), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=getattr(gpg, 'env', None), check=False)
    bits, in_signature = [], False
    for line in proc.stdout.decode('utf-8', 'replace').splitlines():
        if line.startswith(':'):
            in_signature = line.startswith(':signature packet:')
        elif in_signature:
            m = _SIG_VALUE_RE.match(line)
            if m:
                bits.append(int(m.group(1)))
                in_signature = False
    return bits


def _short_rsa_value(gpg, packets_path, key):
    """The bit length of the first signature in ``packets_path`` whose value is a whole byte
    shorter than the RSA ``key`` (what rkt fails), or None."""
    for bits in _signature_value_bits(gpg, packets_path):
        if (bits + 7) // 8 < (key['key_size'] + 7) // 8:
            return bits
    return None


def _check_rkt_signature_length(gpg, sig_path, key):
    """Raise RktSignatureError for an RSA signature rkt would fail although gpg verified it.

    Only the primary key's size is known here, so a key with a signing subkey is not checked
    (gpg_key makes none)."""
    if key['key_type'] != 'RSA' or not key['key_size'] or any('s' in sub['capabilities'] for sub in key['subkeys']):
        return
    bits = _short_rsa_value(gpg, sig_path, key)
    if bits:
        raise RktSignatureError(RKT_SHORT_SIGNATURE % (bits, key['key_size']))


# Each attempt is short at most 1 time in 128: six in a row, once in 4e12 signatures.
RKT_SIGNING_ATTEMPTS = 6


def sign_and_check(gpg, fingerprint, data_path, passphrase=None, check=None):
    """``sign_detached``, then ``verify_detached`` against the exported public key: what is
    returned is known to verify for a client holding only ``export_public_key``. Returns
    ``(signature_bytes, primary_fingerprint)``. ``check``: a ``Verifier`` of that exported key
    to use instead of a new one (many files, one key)."""
    if check is None:
        with verifier(export_public_key(gpg, fingerprint)) as check:
            return sign_and_check(gpg, fingerprint, data_path, passphrase, check)
    for attempt in range(RKT_SIGNING_ATTEMPTS):
        sig, dummy = sign_detached(gpg, fingerprint, data_path, passphrase)
        try:
            signer = check.verify(data_path, sig)
            break
        except RktSignatureError:
            if attempt + 1 == RKT_SIGNING_ATTEMPTS:
                raise
            # The signature's creation time is in whole seconds: a second later the signed hash,
            # and so the value, differ.
            time.sleep(1.0)
    return sig, signer


def read_signature_signer(pubkey_armored, data_path, sig_path, check=None):
    """The primary fingerprint that signed ``data_path`` per the existing file ``sig_path``, or
    None when there is no such file or it does not verify against ``pubkey_armored`` (or the
    ``Verifier`` ``check`` of it)."""
    try:
        with open(sig_path, 'rb') as f:
            sig = f.read()
    except OSError:
        return None
    try:
        if check is not None:
            return check.verify(data_path, sig)
        return verify_detached(pubkey_armored, data_path, sig)
    except SignatureError:
        return None


def read_public_keys(data):
    """The keys in OpenPGP key data (armored or binary, str or bytes), as in ``list_keys`` plus
    ``rkt_problem``, read in a temporary keyring: nothing is imported anywhere else."""
    _require_gnupg()
    if isinstance(data, str):
        data = data.encode('utf-8')
    with scratch_home(options=['--no-autostart']) as gpg:
        gpg.import_keys(data)
        return [dict(key, rkt_problem=rkt_problem(key, gpg)) for key in list_keys(gpg)]
