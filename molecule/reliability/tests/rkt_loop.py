"""Copied into the client and run there with its python3: the real rkt fetching one image again and
again, each time into an empty store, so every pass is a real discovery, download and signature
check. Before each pass the registry's name is pointed at the next replica in turn, as round-robin
DNS would. Runs until the stop file exists or the bound passes; prints one JSON summary.

argv: image stop_file seconds domain address [address ...]"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

IMAGE, STOP, SECONDS, DOMAIN = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
ADDRESSES = sys.argv[5:]
STORE = '/tmp/rkt-loop-store'
RKT = '/usr/local/bin/rkt'


def point_name_at(address):
    # /etc/hosts is a bind mount in the container: rewritten in place, never renamed over.
    with open('/etc/hosts', 'r+') as f:
        lines = [line for line in f.read().splitlines() if not line.endswith(' ' + DOMAIN)]
        f.seek(0)
        f.truncate()
        f.write('\n'.join(lines + ['%s %s' % (address, DOMAIN)]) + '\n')


def main():
    deadline = time.monotonic() + SECONDS
    passes, failures, signers, durations = 0, [], {}, []
    while time.monotonic() < deadline and not os.path.exists(STOP):
        address = ADDRESSES[passes % len(ADDRESSES)]
        point_name_at(address)
        shutil.rmtree(STORE, ignore_errors=True)
        started = time.monotonic()
        try:
            done = subprocess.run([RKT, '--dir=' + STORE, 'fetch', '--full', IMAGE], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=120, check=False)
            rc, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = 'timeout', '', ''
        durations.append(time.monotonic() - started)
        passes += 1
        # rkt prints the signer's user id on the line after "signature verified:".
        signer = re.search(r'signature verified:\s*\n\s*(.+)', err)
        if rc == 0 and out.strip().startswith('sha512-') and signer:
            signers[signer.group(1).strip()] = signers.get(signer.group(1).strip(), 0) + 1
        else:
            failures.append({'pass': passes, 'address': address, 'rc': rc, 'stderr': err[-1000:]})
    durations.sort()
    print(json.dumps({'passes': passes, 'failures': failures, 'signers': signers,
                      'p50': durations[len(durations) // 2] if durations else None,
                      'max': durations[-1] if durations else None}))


if __name__ == '__main__':
    main()
