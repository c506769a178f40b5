# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A registry's site: the web root serving exactly the listed images, the resource of aci_webroot.

It is the top of the layering, and nothing below imports it: ``webroot`` (layout, plan, disk) <-
``registry_index`` (the image records, ``index.json``) <- ``discovery`` (discovery tags and pages) <-
``catalog`` (the catalog page) <- this module, which renders every page for the images and hands
them to the plan as a ``webroot.Layout``.
"""

from __future__ import annotations

import os

from ansible_collections.aci.registry.plugins.module_utils import catalog, converge, discovery, files, registry_index, webroot


def render(domain, images, port=443, signer_fingerprint='', title=''):
    """The ``webroot.Layout`` of ``images``: a discovery page per name, the catalog, the index, the latest links."""
    paths = webroot.image_paths(domain, images)
    pages = {webroot.discovery_relpath(p): discovery.render_page(domain, p, port) for p in paths}
    pages[webroot.CATALOG_FILE] = catalog.catalog_page(domain, images, port, signer_fingerprint, title)
    pages[webroot.INDEX_FILE] = registry_index.render(domain, images, port, signer_fingerprint)
    return webroot.Layout(pages, webroot.latest_links(domain, images), webroot.referenced_files(domain, images))


class RegistrySite(converge.Resource):
    """current: the web root where the layout looks; desired: the layout; differences: a ``webroot.Plan``."""

    errors = (webroot.LayoutError,)

    def __init__(self, module):
        super().__init__(module)
        self.root = webroot.WebRoot(self.params['path'])
        self.plan = None
        self._layout = None

    def layout(self):
        """Checked and rendered once: ``current`` needs it to know where to look."""
        if self._layout is None:
            p = self.params
            self._layout = render(p['domain'], p['images'], p['port'], p['signer_fingerprint'], p['title'])
        return self._layout

    def current(self):
        if not os.path.isdir(self.params['path']):
            raise converge.ModuleError('web root %s does not exist: create it first (the aci.registry.server role does)'
                                       % self.params['path'])
        return self.root.read(self.layout(), self.params['prune'])

    def desired(self, current):
        if current.missing:
            raise converge.ModuleError(
                'refusing to publish pages that point at missing files: %s. Copy the images, '
                'their .asc signatures and pubkeys.gpg into %s first.' % (', '.join(current.missing), self.params['path']),
                missing=current.missing)
        return self.layout()

    def differences(self, current, desired):
        self.plan = webroot.plan_changes(current, desired)
        return self.plan.reasons()

    def apply(self, current, desired, reasons):
        self.root.apply(self.plan, self._write)

    def _write(self, path, content):
        files.write_file(self.module, path, content=content, default_mode=0o644)

    def result(self, current, desired, reasons):
        return dict(written=sorted(self.plan.writes), linked=self.plan.links, removed=self.plan.removals,
                    catalog=os.path.join(self.params['path'], webroot.CATALOG_FILE),
                    index=os.path.join(self.params['path'], webroot.INDEX_FILE))

    def diff(self, current, desired):
        """File names, not their content: pages replaced or removed before, pages and links written after."""
        replaced = {r for r in self.plan.writes if r in current.existing}
        return dict(before={'files': sorted(set(self.plan.removals) | replaced)},
                    after={'files': sorted(set(self.plan.writes) | set(self.plan.links))})
