# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The human catalog page at a registry's root: every name with its versions, os/arch, size, image ID,
the signing key's fingerprint and copy-paste ``rkt`` commands, under the discovery tags of every name.

A pure function from image records to bytes, so the same inputs always give the same page and an
unchanged registry is never rewritten. Names, paths, URLs and version order come from webroot.py,
the discovery tags in the head from discovery.py (layering: webroot <- discovery <- this module).
"""

from __future__ import annotations

from html import escape

from ansible_collections.aci.registry.plugins.module_utils import discovery, webroot


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
      body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #222; }
      h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
      table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
      th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eee; vertical-align: top; }
      code, pre { font-family: ui-monospace, monospace; font-size: .85rem; }
      .fingerprint { white-space: pre; }
      .version, .platform, .size { white-space: nowrap; }
      pre { background: #f5f5f5; padding: .6rem; overflow-x: auto; }
      .id { word-break: break-all; }
"""


def _image_rows(domain, images, port):
    rows = []
    for image in sorted(images, key=lambda i: (webroot.version_key(i['version']), i['os'], i['arch']), reverse=True):
        path = webroot.split_name(image['name'], domain)
        url = '%s/%s' % (webroot.base_url(domain, port), webroot.image_relpath(path, image['version'], image['os'], image['arch']))
        rows.append(
            '        <tr class="image" data-name="%s" data-version="%s">'
            '<td class="version">%s</td><td class="platform">%s/%s</td><td class="size">%s</td>'
            '<td class="id"><code>%s</code></td><td><a href="%s">aci</a> <a href="%s.asc">asc</a></td></tr>'
            % (escape(image['name']), escape(image['version']), escape(image['version']), escape(image['os']),
               escape(image['arch']), human_size(int(image.get('size') or 0)), escape(image.get('image_id') or ''),
               escape(url), escape(url)))
    return '\n'.join(rows)


def catalog_page(domain, images, port=443, signer_fingerprint='', title=''):
    """The root page: discovery tags for every name, and a catalog for people."""
    by_name = {}
    for image in images:
        by_name.setdefault(image['name'], []).append(image)
    paths = [webroot.split_name(name, domain) for name in by_name]
    key_url = '%s/%s' % (webroot.base_url(domain, port), webroot.PUBKEYS_FILE)
    sections = []
    for name in sorted(by_name):
        newest = max(by_name[name], key=lambda i: webroot.version_key(i['version']))
        sections.append(
            '    <section class="name" id="%s">\n      <h2>%s</h2>\n      <table>\n'
            '        <tr><th>version</th><th>os/arch</th><th>size</th><th>image ID</th><th>files</th></tr>\n'
            '%s\n      </table>\n'
            '      <pre class="commands">rkt trust --prefix=%s %s\nrkt fetch %s:%s</pre>\n    </section>'
            % (escape(name), escape(name), _image_rows(domain, by_name[name], port),
               escape(name), escape(key_url), escape(name), escape(newest['version'])))
    heading = title or 'ACI registry %s' % domain
    key = ('      <p>Images are signed with the OpenPGP key <code class="fingerprint">%s</code>, '
           'published at <a href="%s">%s</a>. Check the fingerprint <code>rkt trust</code> shows against it.</p>\n'
           % (escape(grouped_fingerprint(signer_fingerprint)), escape(key_url), escape(key_url))) if signer_fingerprint else ''
    body = '\n'.join(sections) if sections else '    <p class="empty">No images are published yet.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8">\n'
        '    <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '    <title>%s</title>\n%s\n    <style>%s    </style>\n  </head>\n  <body>\n'
        '    <h1>%s</h1>\n%s%s\n  </body>\n</html>\n'
        % (escape(heading), discovery.render_tags(domain, paths, port), _STYLE, escape(heading), key, body)
    ).encode('utf-8')
