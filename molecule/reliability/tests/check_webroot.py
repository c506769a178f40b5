"""Copied into a registry and run there with its python3: is the web root consistent?

Every image a client can reach (each version the catalog names, each latest link) is there with
its signature and verifies against the web root's pubkeys.gpg; every discovery page names only
images that are there. Prints one JSON object: images checked, files no page names yet, problems.

argv: webroot domain"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

WEBROOT, DOMAIN = sys.argv[1], sys.argv[2]


def verify(home, image):
    """A problem with one image a client can reach, or None."""
    signature = image + '.asc'
    for path in (image, signature):
        if not os.path.exists(path):
            return '%s is missing' % path
    done = subprocess.run(['gpg', '--homedir', home, '--batch', '--verify', signature, image],
                          capture_output=True, check=False)
    return None if done.returncode == 0 else '%s does not verify: %s' % (image, done.stderr.decode()[-300:])


def main():
    problems = []
    with open(os.path.join(WEBROOT, 'index.html')) as f:
        catalog = f.read()
    named = set(re.findall(r'rkt fetch %s/([^\s<:"]+):([^\s<"]+)' % re.escape(DOMAIN), catalog))
    reachable = {os.path.join(WEBROOT, name, '%s-linux-amd64.aci' % version) for name, version in named}
    reachable.update(glob.glob(os.path.join(WEBROOT, '**', 'latest-*.aci'), recursive=True))
    with tempfile.TemporaryDirectory() as home:
        imported = subprocess.run(['gpg', '--homedir', home, '--batch', '--import', os.path.join(WEBROOT, 'pubkeys.gpg')],
                                  capture_output=True, check=False)
        if imported.returncode != 0:
            problems.append('pubkeys.gpg does not import: %s' % imported.stderr.decode()[-300:])
        for image in sorted(reachable):
            problem = verify(home, image)
            if problem:
                problems.append(problem)
    for page in glob.glob(os.path.join(WEBROOT, '.discovery', '**', '*.html'), recursive=True):
        with open(page) as f:
            templates = re.findall(r'name="ac-discovery"\s+content="\S+\s+https://[^/]+/(\S+)"', f.read())
        for template in templates:
            prefix = template.split('{version}')[0]
            if not glob.glob(os.path.join(WEBROOT, prefix + '*.aci')):
                problems.append('%s names %s, which has no image' % (page, template))
    # Files copied before the pages that will name them, when a run stopped in between: harmless.
    unnamed = set(glob.glob(os.path.join(WEBROOT, '**', '*.aci'), recursive=True)) - reachable
    print(json.dumps({'images': len(reachable), 'unnamed': len(unnamed), 'problems': problems}))


if __name__ == '__main__':
    main()
