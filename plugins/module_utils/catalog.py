# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The human catalog page at a registry's root: one section per name, its newest version on top
(marked ``latest``, the version the alias points at) and the others folded in a ``<details>``, with
when each was published, its manifest at a glance (exec, labels, size packed and unpacked), image
ID, files, the signing key's fingerprint and copy-paste ``rkt trust``/``fetch``/``run`` commands,
under the discovery tags of every name.

A filter box narrows hundreds of images as one types; it is an inline script so it works from
``file://`` too, and the page stays whole without it (the box is hidden until the script shows it).
``#q=<words>`` in the URL fills it in on load, so a filtered view can be linked. The script is a
constant, the same bytes on every page: a Content-Security-Policy can allow exactly it by its hash
(``SCRIPT_SHA256``) instead of allowing every inline script.

A pure function from image records to bytes, so the same inputs always give the same page and an
unchanged registry is never rewritten. The records (URLs, ``latest``, order) come from
registry_index.py, as the ones of ``index.json`` do, so the two pages cannot disagree; the
discovery tags in the head come from discovery.py.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import shlex
from html import escape

from ansible_collections.aci.registry.plugins.module_utils import discovery, registry_index, webroot

# Labels every image has: shown in their own columns, not again among the labels.
_OWN_COLUMNS = ('version', 'os', 'arch')


def grouped_fingerprint(fingerprint):
    """``9E90 CD8C ... 6CF7`` in blocks of four, halves apart, as ``rkt trust`` prints it for review."""
    blocks = [fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4)]
    half = len(blocks) // 2
    return ' '.join(blocks[:half]) + '  ' + ' '.join(blocks[half:]) if len(blocks) == 10 else fingerprint


def human_size(size):
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if size < 1024 or unit == 'GiB':
            return ('%d %s' % (size, unit)) if unit == 'B' else ('%.1f %s' % (size, unit))
        size /= 1024.0
    return '%d B' % size  # pragma: no cover - the loop always returns


_STYLE = """
      body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 76rem; padding: 0 1rem; color: #222; }
      h1 { font-size: 1.6rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .3rem; border-bottom: 1px solid #ddd; }
      table { border-collapse: collapse; width: 100%; margin: .3rem 0; font-size: .9rem; table-layout: fixed; }
      th:nth-child(1) { width: 10%; } th:nth-child(2) { width: 9%; } th:nth-child(3) { width: 12%; }
      th:nth-child(4), th:nth-child(5) { width: 7%; } th:nth-child(6) { width: 22%; }
      th:nth-child(7) { width: 12%; } th:nth-child(8) { width: 14%; } th:nth-child(9) { width: 7%; }
      td { overflow-wrap: anywhere; }
      /* The whole ID is in the page (selecting it copies all of it); the cell shows its start. */
      .id code { display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
      th { font-weight: 600; color: #555; }
      code, pre { font-family: ui-monospace, monospace; font-size: .82rem; }
      .fingerprint { white-space: pre; }
      .version, .platform, .size, .unpacked, .published { white-space: nowrap; }
      .latest { background: #1a7f37; color: #fff; border-radius: .6rem; padding: 0 .45rem; font-size: .75rem; margin-left: .3rem; }
      .none { color: #777; }
      pre { background: #f5f5f5; padding: .5rem; margin: .3rem 0; overflow-x: auto; }
      details summary { cursor: pointer; color: #555; font-size: .9rem; margin: .2rem 0; }
      .filter { position: sticky; top: 0; background: #fff; padding: .5rem 0; margin: 0; border-bottom: 1px solid #ddd; }
      .filter input { font-size: 1rem; padding: .3rem .5rem; width: 24rem; max-width: 70%; }
      #shown { color: #555; margin-left: .6rem; }
"""

# A row shows when its name and cells hold every typed word (as typed, in any case).
SCRIPT = """
(function () {
  var q = document.getElementById('q'), shown = document.getElementById('shown');
  var sections = Array.prototype.map.call(document.querySelectorAll('section.name'), function (section) {
    var rows = Array.prototype.map.call(section.querySelectorAll('tr.image'), function (row) {
      var cells = Array.prototype.map.call(row.cells, function (cell) { return cell.textContent; });
      return {row: row, text: (row.getAttribute('data-name') + ' ' + cells.join(' ')).toLowerCase()};
    });
    return {section: section, rows: rows, more: section.querySelector('details')};
  });
  function apply() {
    var words = q.value.toLowerCase().split(/\\s+/).filter(Boolean), hits = 0, total = 0;
    sections.forEach(function (s) {
      var any = false;
      s.rows.forEach(function (r) {
        var hit = words.every(function (w) { return r.text.indexOf(w) >= 0; });
        r.row.hidden = !hit;
        total += 1;
        if (hit) { hits += 1; any = true; }
      });
      s.section.hidden = !any;
      if (s.more && words.length) { s.more.open = s.more.querySelector('tr.image:not([hidden])') !== null; }
    });
    shown.textContent = words.length ? hits + ' of ' + total + ' images' : total + ' images';
  }
  function fromHash() {
    var m = /^#q=(.*)$/.exec(location.hash);
    if (m) { q.value = decodeURIComponent(m[1]); }
  }
  q.addEventListener('input', function () {
    try { history.replaceState(null, '', '#q=' + encodeURIComponent(q.value)); } catch (e) { /* file:// */ }
    apply();
  });
  window.addEventListener('hashchange', function () { fromHash(); apply(); });
  document.getElementById('filter').hidden = false;
  fromHash();
  apply();
})();
"""
SCRIPT_SHA256 = 'sha256-' + base64.b64encode(hashlib.sha256(SCRIPT.encode('utf-8')).digest()).decode('ascii')

_HEADER = ('<tr><th>version</th><th>os/arch</th><th>published</th><th>size</th><th>unpacked</th><th>exec</th>'
           '<th>labels</th><th>image ID</th><th>files</th></tr>')


def _count(n, noun):
    return '%d %s%s' % (n, noun, '' if n == 1 else 's')


def _extra_labels(record):
    return ['%s=%s' % (k, v) for k, v in sorted(record['labels'].items()) if k not in _OWN_COLUMNS]


def _cell(css, text):
    return '<td class="%s">%s</td>' % (css, text or '<span class="none">-</span>')


def _row(record):
    published = record['published']
    image_id = record['image_id']
    return ''.join([
        '          <tr class="image" data-name="%s" data-version="%s">' % (escape(record['name']), escape(record['version'])),
        _cell('version', escape(record['version']) + (' <span class="latest">latest</span>' if record['latest'] else '')),
        _cell('platform', '%s/%s' % (escape(record['os']), escape(record['arch']))),
        _cell('published', published and '<time datetime="%s">%s</time>' % (
            escape(published), escape(published.replace('T', ' ')[:16]))),
        _cell('size', human_size(record['size'])),
        _cell('unpacked', record['unpacked_size'] and human_size(record['unpacked_size'])),
        _cell('exec', record['exec'] and '<code>%s</code>' % escape(' '.join(shlex.quote(a) for a in record['exec']))),
        _cell('labels', escape(', '.join(_extra_labels(record)))),
        _cell('id', image_id and '<code>%s</code>' % escape(image_id)),
        _cell('files', '<a href="%s">aci</a> <a href="%s">asc</a>' % (
            escape(record['image_url']), escape(record['signature_url']))),
        '</tr>'])


def _table(rows):
    return '        <table>\n          %s\n%s\n        </table>\n' % (_HEADER, '\n'.join(_row(r) for r in rows))


def _section(name, rows, key_url):
    current = [r for r in rows if r['latest']]
    others = [r for r in rows if not r['latest']]
    newest = current[0]['version']
    more = ('        <details>\n          <summary>%s</summary>\n%s        </details>\n'
            % (_count(len(others), 'more version'), _table(others))) if others else ''
    return (
        '    <section class="name" id="%s">\n      <h2>%s</h2>\n%s%s'
        '      <pre class="commands">rkt trust --prefix=%s %s\nrkt fetch %s:%s\nrkt run %s:%s</pre>\n    </section>'
        % (escape(name), escape(name), _table(current), more, escape(name), escape(key_url),
           escape(name), escape(newest), escape(name), escape(newest)))


def _filter_box(count):
    return ('    <p class="filter" id="filter" hidden><label>Filter <input id="q" type="search" '
            'placeholder="name, version, os/arch, label, exec" autocomplete="off"></label>'
            '<span id="shown">%s</span></p>\n' % _count(count, 'image'))


def catalog_page(domain, images, port=443, signer_fingerprint='', title=''):
    """The root page: discovery tags for every name, and a catalog for people."""
    records = registry_index.records(domain, images, port)
    paths = [webroot.split_name(image['name'], domain) for image in images]
    key_url = webroot.url(domain, webroot.PUBKEYS_FILE, port)
    sections = [_section(name, list(rows), key_url)
                for name, rows in itertools.groupby(records, key=lambda r: r['name'])]
    heading = title or 'ACI registry %s' % domain
    key = ('    <p>Images are signed with the OpenPGP key <code class="fingerprint">%s</code>, '
           'published at <a href="%s">%s</a>. Check the fingerprint <code>rkt trust</code> shows against it.</p>\n'
           % (escape(grouped_fingerprint(signer_fingerprint)), escape(key_url), escape(key_url))) if signer_fingerprint else ''
    summary = ('    <p>%s of %s; the same list for programs: <a href="%s">%s</a>.</p>\n'
               % (_count(len(records), 'image'), _count(len(sections), 'name'), webroot.INDEX_FILE, webroot.INDEX_FILE))
    body = ('\n'.join(sections) if sections else '    <p class="empty">No images are published yet.</p>')
    # Exactly SCRIPT between the tags: SCRIPT_SHA256 is the hash of the element's text.
    script = '    <script>%s</script>\n' % SCRIPT if sections else ''
    return (
        '<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8">\n'
        '    <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '    <title>%s</title>\n%s\n    <style>%s    </style>\n  </head>\n  <body>\n'
        '    <h1>%s</h1>\n%s%s%s%s\n%s  </body>\n</html>\n'
        % (escape(heading), discovery.render_tags(domain, paths, port), _STYLE, escape(heading), key, summary,
           _filter_box(len(records)) if sections else '', body, script)
    ).encode('utf-8')
