"""Copied into the client and run there: poll one HTTPS URL every 50 ms until it has been seen
down and then up again, bounded to a deadline. Prints JSON {down_at, up_at, polls}."""

import json
import ssl
import sys
import time
import urllib.request

url, deadline_s = sys.argv[1], float(sys.argv[2])
context = ssl.create_default_context()  # the system store ca_trust installed the registry CA into
start = time.monotonic()
down_at = up_at = None
polls = 0
while time.monotonic() - start < deadline_s:
    polls += 1
    t = time.monotonic() - start
    try:
        with urllib.request.urlopen(url, context=context, timeout=1) as r:
            ok = r.status == 200
            r.read()
    except Exception:
        ok = False
    if not ok and down_at is None:
        down_at = t
    if ok and down_at is not None:
        up_at = t
        break
    # Already up and never seen down: the restart may have been quicker than one poll.
    if ok and len(sys.argv) > 3 and t > float(sys.argv[3]):
        break
    time.sleep(0.05)
print(json.dumps({'down_at': down_at, 'up_at': up_at, 'polls': polls}))
