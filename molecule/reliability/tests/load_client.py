"""Copied into the client and run there with its python3: a bounded load on the registry.

Each of N threads loops until the stop file or the bound: read the catalog, pick a version it names
(or latest), fetch the discovery page, then at once the signature and the image it names (the image
by two Range requests), and pubkeys.gpg; every image is checked against its signature with gpg.
With replica addresses, every connection goes to the next replica in turn, as round-robin DNS
sends them. Prints one JSON summary.

argv: base_url threads seconds [removed versions, comma-separated] [replica addresses, comma-separated]

A 404 for a version being removed is counted apart (allowed: the page that named it was read
before the removal). So is a latest signature and image that do not match each other when the image
matches the signature of the version it is: the alias moved between the two requests, which no
server can prevent (a client that fetches by version never meets it).

With LOAD_TRACE=<file> in its environment (the test passes LOAD_TRACE through, suffixed with the
version it publishes) it also writes every image and signature response there, one JSON row each
(time, thread, file, Range, status, ETag/Last-Modified/Content-Length, length, sha256), and each
distinct whole body to <file>.bodies/<sha256>, to be matched offline against the files' mtimes."""

import hashlib
import itertools
import json
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BASE, THREADS, SECONDS = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
REMOVED = set(filter(None, (sys.argv[4] if len(sys.argv) > 4 else '').split(',')))
REPLICAS = list(filter(None, (sys.argv[5] if len(sys.argv) > 5 else '').split(',')))
DOMAIN = BASE.split('//', 1)[1].split('/', 1)[0]
CONTEXT = ssl.create_default_context()
lock = threading.Lock()
latencies, errors, counts = [], {}, {'requests': 0, 'images': 0, 'verified': 0}
allowed = {}
# What the first few mismatches looked like, so that a failure explains itself.
mismatches = []
# Every signature a version's own URL served during the run: a latest pair torn by the alias move is
# checked against these too, since the version it came from may be pruned before the check runs.
seen_signatures = set()
TRACE = [] if os.environ.get('LOAD_TRACE') else None
BODIES = {}
# Each thread's last response's ETag, Last-Modified and Content-Length: nginx's ETag is the served
# file's mtime and size, so a mismatch names the very files it came from.
last = threading.local()

if REPLICAS:
    _resolve, _turn = socket.getaddrinfo, itertools.count()

    def round_robin(host, *args, **kwargs):
        # TLS still checks the certificate against DOMAIN: only the address changes.
        return _resolve(REPLICAS[next(_turn) % len(REPLICAS)] if host == DOMAIN else host, *args, **kwargs)
    socket.getaddrinfo = round_robin


def note(kind):
    with lock:
        allowed[kind] = allowed.get(kind, 0) + 1


def err(kind):
    with lock:
        errors[kind] = errors.get(kind, 0) + 1


def get(url, headers=None):
    started = time.monotonic()
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=CONTEXT, timeout=10) as r:
            status, body = r.status, r.read()
            hdr = (r.headers.get('ETag'), r.headers.get('Last-Modified'), r.headers.get('Content-Length'))
    except urllib.error.HTTPError as e:
        status, body = e.code, b''
        hdr = None
    except Exception as e:  # connection level: counted by kind, never fatal
        status, body = type(e).__name__, b''
        hdr = None
    last.headers = hdr
    with lock:
        counts['requests'] += 1
        latencies.append(time.monotonic() - started)
        if TRACE is not None and '.aci' in url:
            TRACE.append((time.time(), threading.get_ident() % 1000, url.rsplit('/', 1)[1], headers.get('Range') if headers else None,
                          status, hdr, len(body), hashlib.sha256(body).hexdigest()[:12]))
            if body and not (headers and 'Range' in headers):
                BODIES[hashlib.sha256(body).hexdigest()[:12]] = body
    if isinstance(status, int) and status >= 500:
        err('5xx')
    elif not isinstance(status, int):
        err('connection: %s' % status)
    return status, body


def verify(gnupghome, image, signature):
    return gpg_verify(gnupghome, image, signature)[0]


def gpg_verify(gnupghome, image, signature):
    """(verified, gpg's stderr)."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, 'i'), 'wb') as f:
            f.write(image)
        with open(os.path.join(d, 's'), 'wb') as f:
            f.write(signature)
        done = subprocess.run(['gpg', '--homedir', gnupghome, '--batch', '--verify',
                               os.path.join(d, 's'), os.path.join(d, 'i')], capture_output=True, check=False)
        return done.returncode == 0, done.stderr.decode(errors='replace')[-400:]


def mismatch(gnupghome, version, statuses, image, signature, sig_url, image_url, validators):
    """A mismatch seen: verified again from the same bytes and from a fresh download, and described."""
    again, stderr = gpg_verify(gnupghome, image, signature)
    s_sig, now_sig = get(sig_url)
    sig_now = last.headers
    s_img, now_img = get(image_url)
    img_now = last.headers
    with lock:
        if len(mismatches) < 5:
            mismatches.append(dict(
                version=version, statuses=statuses, image_bytes=len(image), signature_bytes=len(signature),
                validators=validators, validators_now=[sig_now, img_now], at=time.time(),
                image_sha256=hashlib.sha256(image).hexdigest()[:16],
                now=dict(statuses=[s_sig, s_img], image_bytes=len(now_img),
                         image_sha256=hashlib.sha256(now_img).hexdigest()[:16],
                         same_signature=now_sig == signature, verifies=verify(gnupghome, now_img, now_sig)),
                same_bytes_verify_on_retry=again, gpg=stderr))
    return again


# The test creates this file when its publish is over: the load spans the whole publish, bounded by SECONDS.
STOP = '/tmp/load-stop'


STRADDLED = 'latest: signature and image from either side of the alias move'


# How long a torn latest image may wait for a catalog naming its version. Behind round-robin DNS one
# replica moves latest (and then its catalog) while the other still serves its old pages: a new
# image fetched through the moved alias belongs to a version no catalog this client reads may name
# yet, nor has any thread fetched its signature by version. Each replica's pages follow within a
# second or two of the other's.
STRADDLE_WAIT = 10.0


def straddled(gnupghome, template, image, versions):
    """Whether ``image``, fetched as latest beside a signature it does not match, is intact: a
    published version whose own signature it matches (the alias moved between the two requests).
    Catalogs are read again (bounded) until one names that version: a torn file matches none."""
    versions = set(v.decode() for v in versions) | REMOVED
    checked = set()
    end = time.monotonic() + STRADDLE_WAIT
    while True:
        status, catalog = get(BASE + '/')
        if status == 200:
            versions |= set(v.decode() for v in re.findall(
                rb'rkt fetch ' + re.escape(DOMAIN.encode()) + rb'/app:([^\s<"]+)', catalog))
        for version in sorted(versions - checked):
            status, signature = get(template.replace('{version}', version).replace('{ext}', 'aci.asc'))
            if status == 200:
                checked.add(version)
                if verify(gnupghome, image, signature):
                    return True
        with lock:
            known = list(seen_signatures)
        if any(verify(gnupghome, image, signature) for signature in known):
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.5)


def worker(gnupghome, end):
    chooser = random.Random(threading.get_ident())
    while time.monotonic() < end and not os.path.exists(STOP):
        status, catalog = get(BASE + '/')
        if status != 200:
            err('catalog %s' % status)
            continue
        versions = sorted(set(re.findall(rb'rkt fetch ' + re.escape(DOMAIN.encode()) + rb'/app:([^\s<"]+)', catalog)))
        version = chooser.choice([b'latest'] + versions).decode()
        status, page = get(BASE + '/app?ac-discovery=1')
        if status != 200:
            err('discovery %s' % status)
            continue
        templates = re.findall(rb'name="ac-discovery"\s+content="\S+\s+(\S+)"', page)
        if not templates:
            err('discovery page without ac-discovery')
            continue
        url = templates[0].decode().replace('{os}', 'linux').replace('{arch}', 'amd64')
        image_url, sig_url = (url.replace('{version}', version).replace('{ext}', ext) for ext in ('aci', 'aci.asc'))
        s1, sig = get(sig_url)
        sig_validators = last.headers
        if s1 == 200 and version != 'latest':
            with lock:
                seen_signatures.add(sig)
        if version == 'latest':
            # The alias may move between any two requests: one whole GET of the image, as rkt does.
            s2, head = get(image_url)
            image_validators = last.headers
            s2, s3, rest = (206 if s2 == 200 else s2), 206, b''
        else:
            s2, head = get(image_url, {'Range': 'bytes=0-1023'})
            image_validators = last.headers
            s3, rest = get(image_url, {'Range': 'bytes=1024-'})
        if 404 in (s1, s2, s3):
            if version in REMOVED:
                note('404 for a version being removed')
            else:
                err('catalog named a file that 404d')
            continue
        if s1 != 200 or s2 != 206 or s3 not in (206, 416):
            err('image/signature status %s %s %s' % (s1, s2, s3))
            continue
        with lock:
            counts['images'] += 1
        if verify(gnupghome, head + rest, sig):
            with lock:
                counts['verified'] += 1
        elif version == 'latest' and straddled(gnupghome, url, head, versions):
            note(STRADDLED)
        elif mismatch(gnupghome, version, [s1, s2, s3], head + rest, sig, sig_url, image_url,
                      [sig_validators, image_validators]):
            # The bytes were right and the check failed: an error of its own kind, so a failure says which.
            err('gpg failed on bytes that verify on retry')
        else:
            err('image does not match signature')
        s4, _keys = get(BASE + '/pubkeys.gpg')
        if s4 != 200:
            err('pubkeys.gpg %s' % s4)


def main():
    status, keys = get(BASE + '/pubkeys.gpg')
    if status != 200:
        print(json.dumps({'fatal': 'pubkeys.gpg: %s' % status}))
        return
    # One keyring per thread: gpg processes sharing a home contend for its locks and trust database.
    homes = [tempfile.mkdtemp() for _thread in range(THREADS)]
    for gnupghome in homes:
        subprocess.run(['gpg', '--homedir', gnupghome, '--batch', '--import'], input=keys, capture_output=True,
                       check=True)
    end = time.monotonic() + SECONDS
    threads = [threading.Thread(target=worker, args=(gnupghome, end)) for gnupghome in homes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ordered = sorted(latencies)

    def pick(q):
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None
    if TRACE is not None:
        with open(os.environ['LOAD_TRACE'], 'w') as f:
            for row in TRACE:
                f.write(json.dumps(row) + '\n')
        os.makedirs(os.environ['LOAD_TRACE'] + '.bodies', exist_ok=True)
        for digest, body in BODIES.items():
            with open(os.path.join(os.environ['LOAD_TRACE'] + '.bodies', digest), 'wb') as f:
                f.write(body)
    # A load that hit its bound before the publish ended did not see the end of it (e.g. the alias move).
    print(json.dumps(dict(counts, errors=errors, allowed=allowed, mismatches=mismatches, stopped=os.path.exists(STOP), p50=pick(0.50), p99=pick(0.99))))


main()
