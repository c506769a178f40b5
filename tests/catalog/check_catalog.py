# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog page at 120 images, in a real browser: Debian's headless Chromium.

Renders the web root of 120 images (40 names, up to three versions, some for two architectures) with
the collection's own module_utils (registry_site.render, as aci_webroot does), opens its index.html
from file:// and checks, with what Chromium's DOM holds after the page's script ran:

- unfiltered, every row is shown and the filter box is visible;
- with ``#q=<words>`` in the URL the filter is applied on load: exactly the rows holding every word
  stay, sections without one are hidden, and a folded older version that matches is unfolded;
- with JavaScript off, every row is shown and the (useless) filter box stays hidden;
- under a Content-Security-Policy that allows only ``catalog.SCRIPT_SHA256``, the filter still runs.

Then it saves a screenshot (``docs/catalog.png`` unless ``--screenshot`` says otherwise) and prints
how long each step took. Run it with ``make catalog``, which installs chromium first, or directly:
``.venv/bin/python tests/catalog/check_catalog.py``.
"""

import argparse
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from ansible_collections.aci.registry.plugins.module_utils import catalog, registry_site, webroot  # noqa: E402

DOMAIN = 'registry.example.com'
FINGERPRINT = '9E90CD8CA81488F286CB6683982367D1E8F76CF7'
TEAMS = ('base', 'tools', 'web', 'data')
# (words typed, why): each must leave some rows and hide others.
FILTERS = (('tools', 'one team'), ('web aarch64', 'two words: every one must match'),
           ('v1.0.0 data', 'an older version: its <details> must unfold'), ('channel=beta', 'a label'))
CHROMIUM_TIMEOUT = 120


def images():
    """120 images: 40 names, 3 versions each for 30 of them, 2 for 10, and 10 latest builds for aarch64 too."""
    found = []
    for n in range(40):
        name = '%s/%s/app-%02d' % (DOMAIN, TEAMS[n % 4], n)
        versions = ('v1.0.0', 'v1.1.0', 'v1.10.0') if n < 30 else ('v1.0.0', 'v2.0.0')
        for v, version in enumerate(versions):
            arches = ('amd64', 'aarch64') if n % 4 == 2 and v == len(versions) - 1 else ('amd64',)
            for arch in arches:
                found.append(dict(
                    name=name, version=version, os='linux', arch=arch, latest=False,
                    image_id='sha512-' + hashlib.sha512(('%s:%s:%s' % (name, version, arch)).encode()).hexdigest(),
                    size=(n + 1) * 97 * 1024 + v * 4096, unpacked_size=(n + 1) * 311 * 1024 + v * 8192,
                    published='2026-11-%02dT%02d:%02d:00Z' % (1 + n % 28, 8 + v * 3, n % 60),
                    exec=['/usr/bin/app-%02d' % n, '--listen', ':80%02d' % n],
                    labels=dict(version=version, os='linux', arch=arch, channel='beta' if n % 5 == 0 else 'stable')))
    return found[:120]


def write_site(directory, imgs):
    layout = registry_site.render(DOMAIN, imgs, 443, FINGERPRINT, '')
    for relpath, content in layout.pages.items():
        path = os.path.join(directory, *relpath.split('/'))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(content)
    return os.path.join(directory, webroot.CATALOG_FILE)


def chromium(binary, *args):
    """Chromium's stdout for one headless run (as root it needs --no-sandbox)."""
    profile = tempfile.mkdtemp(prefix='catalog-chromium-')
    command = [binary, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run',
               '--user-data-dir=%s' % profile, '--virtual-time-budget=3000']
    try:
        proc = subprocess.run(command + list(args), capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT,
                              check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0:
        sys.exit('chromium failed (rc=%d): %s' % (proc.returncode, proc.stderr[-2000:]))
    return proc.stdout


def _text(cell):
    return html.unescape(re.sub(r'<[^>]*>', '', cell))


def rows(dom):
    """``[(words, hidden?)]`` of every image row in Chromium's DOM; the words as the page's script reads
    them: the row's name, then the text of each cell."""
    found = []
    for m in re.finditer(r'<tr class="image" data-name="([^"]*)" data-version="[^"]*"( hidden="")?>(.*?)</tr>', dom, re.S):
        cells = [_text(cell) for cell in re.findall(r'<td[^>]*>(.*?)</td>', m.group(3), re.S)]
        found.append((' '.join([html.unescape(m.group(1))] + cells).lower(), bool(m.group(2))))
    return found


def expected_rows(found, words):
    """Which rows the filter must hide: those missing one of ``words``."""
    return [not all(w in text for w in words.lower().split()) for text, dummy in found]


def check(binary, page, total):
    url = 'file://' + page
    unfiltered = rows(chromium(binary, '--dump-dom', url))
    assert len(unfiltered) == total and not any(hidden for dummy, hidden in unfiltered), 'unfiltered: not every row shows'
    results = []
    for words, why in FILTERS:
        dom = chromium(binary, '--dump-dom', url + '#q=' + urllib.parse.quote(words))
        got = rows(dom)
        want = expected_rows(unfiltered, words)
        shown = want.count(False)
        assert [hidden for dummy, hidden in got] == want, 'filter %r (%s): the browser shows other rows' % (words, why)
        assert 0 < shown < total, 'filter %r leaves %d rows: not a test of the filter' % (words, shown)
        assert '<span id="shown">%d of %d images</span>' % (shown, total) in dom, words
        assert '<p class="filter" id="filter">' in dom, 'the script did not show the filter box'
        if 'unfold' in why:
            assert '<details open="">' in dom, 'filter %r: the matching older version stayed folded' % words
        results.append((words, shown))
    # Headless Chromium's --dump-dom needs JavaScript itself, so scripts are turned off the way a
    # server would: a Content-Security-Policy. script-src 'none' is a browser without JavaScript (the
    # filter in the URL must then change nothing); the policy that allows only catalog.SCRIPT_SHA256
    # must run the filter as if there were no policy.
    no_js = chromium(binary, '--dump-dom', 'file://' + with_policy(page, "script-src 'none'") + '#q=tools')
    assert len(rows(no_js)) == total and not any(hidden for dummy, hidden in rows(no_js)), 'without JavaScript rows are hidden'
    assert '<p class="filter" id="filter" hidden="">' in no_js, 'without JavaScript the filter box shows'
    hashed = chromium(binary, '--dump-dom', 'file://' + with_policy(page, "script-src '%s'" % catalog.SCRIPT_SHA256)
                      + '#q=tools')
    assert [h for dummy, h in rows(hashed)] == expected_rows(unfiltered, 'tools'), 'the script hash does not allow the script'
    return results


def with_policy(page, policy):
    """A copy of ``page`` beside it whose head sets the Content-Security-Policy ``policy``."""
    with open(page) as f:
        text = f.read()
    copy = '%s-%d.html' % (page[:-len('.html')], len(policy))
    with open(copy, 'w') as f:
        f.write(text.replace('<head>', '<head>\n    <meta http-equiv="Content-Security-Policy" content="%s">'
                             % html.escape(policy), 1))
    return copy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--chromium', default=shutil.which('chromium') or 'chromium')
    parser.add_argument('--screenshot', default=os.path.join(ROOT, 'docs', 'catalog.png'))
    parser.add_argument('--screenshot-filter', default='', help='words to filter by in the screenshot')
    args = parser.parse_args()
    started = time.monotonic()
    imgs = images()
    site = tempfile.mkdtemp(prefix='catalog-site-')
    page = write_site(site, imgs)
    rendered = time.monotonic()
    results = check(args.chromium, page, len(imgs))
    checked = time.monotonic()
    url = 'file://' + page + ('#q=' + urllib.parse.quote(args.screenshot_filter) if args.screenshot_filter else '')
    chromium(args.chromium, '--window-size=1280,1500', '--screenshot=%s' % os.path.abspath(args.screenshot), url)
    done = time.monotonic()
    print('catalog of %d images, %d names: %d bytes' % (len(imgs), len({i['name'] for i in imgs}), os.path.getsize(page)))
    for words, shown in results:
        print('  #q=%-16s %3d of %d rows shown, as expected' % (words, shown, len(imgs)))
    print('  JavaScript off (script-src \'none\'): every row shown, filter box hidden')
    print('  script-src %s: the filter runs' % catalog.SCRIPT_SHA256)
    print('render %.2f s, browser checks %.1f s (%d chromium runs), screenshot %.1f s: %s'
          % (rendered - started, checked - rendered, len(FILTERS) + 3, done - checked, args.screenshot))
    shutil.rmtree(site)


if __name__ == '__main__':
    main()
