# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that knows a registry's web-root layout, and the plan that converges a web root to it.

An image named ``<domain>/<path>`` with labels version/os/arch lives at
``<webroot>/<path>/<version>-<os>-<arch>.aci`` with its signature beside it as ``.aci.asc``; the
signing key is ``<webroot>/pubkeys.gpg``. ``<path>/latest-<os>-<arch>.aci`` (and ``.asc``) link to
the newest version. Discovery pages live in a tree of their own, ``<webroot>/.discovery/<path>.html``
(the server answers ``GET /<path>?ac-discovery=1`` from it), because ``/<path>`` is already the
directory holding the images; the catalog is ``<webroot>/index.html`` and its machine-readable twin
``<webroot>/index.json``.

This is the bottom layer and imports nothing of the collection: ``discovery.py`` renders the
discovery tags and pages from these names and URLs, ``catalog.py`` the catalog page, and
``registry_site.py`` hands the rendered pages to the plan here (a ``Layout``), which compares them
with what a ``WebRoot`` holds (a ``State``) and says what to write, link and remove (a ``Plan``).
"""

from __future__ import annotations

import os
import posixpath
import re

PUBKEYS_FILE = 'pubkeys.gpg'
DISCOVERY_DIR = '.discovery'
CATALOG_FILE = 'index.html'
INDEX_FILE = 'index.json'
# The pages at the root that name every image: written after everything they point at.
ROOT_PAGES = (CATALOG_FILE, INDEX_FILE)
LATEST_VERSION = 'latest'
IMAGE_EXT = 'aci'
SIGNATURE_EXT = 'aci.asc'
# What the server says each file of the layout is, by extension (the last one: .aci.asc is asc).
CONTENT_TYPES = {
    'html': 'text/html',
    'json': 'application/json',
    IMAGE_EXT: 'application/octet-stream',
    SIGNATURE_EXT.rsplit('.', 1)[1]: 'application/pgp-signature',
    PUBKEYS_FILE.rsplit('.', 1)[1]: 'application/pgp-keys',
}
# The URL template rkt fills in: appc discovery substitutes {version}, {os}, {arch} and {ext}.
FILE_TEMPLATE = '{version}-{os}-{arch}.{ext}'

_AC_IDENTIFIER = re.compile(r'^[a-z0-9]+([-._~/][a-z0-9]+)*$')
_LABEL_VALUE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+~-]*$')
_VERSION_PART = re.compile(r'(\d+)')


class LayoutError(ValueError):
    """An image name or label that cannot be laid out; the message says what to fix."""


def split_name(name, domain):
    """Return the path part of ``name`` below ``domain``; refuse names of another registry."""
    if not _AC_IDENTIFIER.match(name or ''):
        raise LayoutError('image name %r is not an AC Identifier (lowercase a-z, 0-9 and -._~/ between them)' % name)
    prefix = domain.rstrip('/') + '/'
    if not name.startswith(prefix) or len(name) == len(prefix):
        raise LayoutError('image name %r must start with this registry\'s domain %r followed by a path, e.g. %s%s'
                          % (name, domain, prefix, name.rsplit('/', 1)[-1]))
    return name[len(prefix):]


def full_name(domain, path):
    """``registry.example.com`` + ``team/tool`` → ``registry.example.com/team/tool``."""
    return '%s/%s' % (domain.rstrip('/'), path.strip('/'))


def file_stem(version, os_name, arch):
    """``v1.0.0-linux-amd64``: the file name of an image without its extension."""
    for label, value in (('version', version), ('os', os_name), ('arch', arch)):
        # A slash or leading dot here would escape the image's directory or hide the file.
        if not _LABEL_VALUE.match(value or ''):
            raise LayoutError('label %s=%r cannot name a file: use letters, digits and . _ + ~ - '
                              '(not starting with a punctuation mark)' % (label, value))
    return '%s-%s-%s' % (version, os_name, arch)


def image_relpath(path, version, os_name, arch):
    """Web-root relative path of an image file."""
    return posixpath.join(path, '%s.%s' % (file_stem(version, os_name, arch), IMAGE_EXT))


def signature_relpath(path, version, os_name, arch):
    """Web-root relative path of an image's detached signature."""
    return posixpath.join(path, '%s.%s' % (file_stem(version, os_name, arch), SIGNATURE_EXT))


def discovery_relpath(path):
    """Web-root relative path of the discovery page of one image name."""
    return posixpath.join(DISCOVERY_DIR, path + '.html')


def base_url(domain, port=443):
    """``https://domain`` (with the port only when it is not 443)."""
    return 'https://%s' % domain if int(port) == 443 else 'https://%s:%d' % (domain, int(port))


def url(domain, relpath, port=443):
    """The URL a client fetches the web-root file ``relpath`` at."""
    return '%s/%s' % (base_url(domain, port), relpath)


def version_key(version):
    """Natural sort key: v1.10.0 after v1.9.0, release after its own pre-release suffix."""
    parts = _VERSION_PART.split(version.lstrip('vV'))
    return [(0, int(p), '') if p.isdigit() else (1, 0, p) for p in parts if p]


def latest_versions(images):
    """``{(name, os, arch): version}``: an image marked ``latest`` wins, else the highest version."""
    chosen = {}
    for image in images:
        key = (image['name'], image['os'], image['arch'])
        current = chosen.get(key)
        if current is None or image.get('latest') or (
                not current.get('latest') and version_key(image['version']) > version_key(current['version'])):
            chosen[key] = image
    return dict((key, image['version']) for key, image in chosen.items())


def image_paths(domain, images):
    """The sorted paths of the names of ``images``; refuses a version that is the ``latest`` alias."""
    for image in images:
        if image['version'] == LATEST_VERSION:
            raise LayoutError('image %s: "%s" is the alias this registry maintains for the newest version; '
                              'give the image a real version' % (image['name'], LATEST_VERSION))
    return sorted(set(split_name(image['name'], domain) for image in images))


def referenced_files(domain, images):
    """The files the pages point at, which must be there before a page names them."""
    relpaths = [PUBKEYS_FILE]
    for image in images:
        path = split_name(image['name'], domain)
        relpaths.append(image_relpath(path, image['version'], image['os'], image['arch']))
        relpaths.append(signature_relpath(path, image['version'], image['os'], image['arch']))
    return relpaths


def latest_alias_pattern():
    """A regular expression (Python's and nginx's PCRE alike) matching the URL path of every ``latest`` alias."""
    return '/%s-[^/]+\\.(%s|%s)$' % (re.escape(LATEST_VERSION), re.escape(IMAGE_EXT), re.escape(SIGNATURE_EXT))


def latest_links(domain, images):
    """``{alias relpath: target}``: the ``latest`` image and signature of each name, os and arch."""
    links = {}
    for (name, os_name, arch), version in latest_versions(images).items():
        path = split_name(name, domain)
        for relpath_of in (image_relpath, signature_relpath):
            links[relpath_of(path, LATEST_VERSION, os_name, arch)] = posixpath.basename(
                relpath_of(path, version, os_name, arch))
    return links


class Layout:
    """What a web root must hold: ``pages`` (relpath -> bytes), ``links`` (relpath -> target) and
    the ``referenced`` files (relpaths) the pages point at, which are copied in before."""

    def __init__(self, pages, links, referenced):
        self.pages = pages
        self.links = links
        self.referenced = referenced


class State:
    """What a web root holds where a ``Layout`` looks, read before anything changes."""

    def __init__(self, pages, existing, links, missing, owned):
        self.pages = pages        # page relpath -> bytes there, or None
        self.existing = existing  # page relpaths that exist (readable or not)
        self.links = links        # link relpath -> target there, or None
        self.missing = missing    # referenced relpaths that are not files
        self.owned = owned        # relpaths of every file this layout owns, when pruning


class Plan:
    """What converging a web root changes: pages to write, links to set, files to remove."""

    def __init__(self, writes, links, removals):
        self.writes = writes      # relpath -> bytes
        self.links = links        # relpath -> link target (relative)
        self.removals = removals  # relpaths

    def reasons(self):
        """One short reason a change, none when the web root is as it should be."""
        return (['write %s' % r for r in sorted(self.writes)] + ['link %s' % r for r in sorted(self.links)]
                + ['remove %s' % r for r in self.removals])


def plan_changes(state, layout):
    """The ``Plan`` that turns ``state`` into ``layout``; only owned files that it does not keep go."""
    writes = {r: content for r, content in sorted(layout.pages.items()) if state.pages[r] != content}
    links = {r: target for r, target in sorted(layout.links.items()) if state.links[r] != target}
    keep = set(layout.pages) | set(layout.links) | set(layout.referenced)
    return Plan(writes, links, [r for r in state.owned if r not in keep])


def _is_layout_file(relpath):
    """Only files this layout owns are ever pruned; anything else in the web root is left alone."""
    if relpath in ROOT_PAGES:
        return True
    if relpath.startswith(DISCOVERY_DIR + '/'):
        return relpath.endswith('.html')
    return relpath.endswith('.' + IMAGE_EXT) or relpath.endswith('.' + SIGNATURE_EXT)


class WebRoot:
    """A registry web root on disk: reads the ``State`` a layout looks at, then applies a ``Plan``."""

    def __init__(self, root):
        self.root = root

    def _abs(self, relpath):
        return os.path.join(self.root, *relpath.split('/'))

    def _current_bytes(self, relpath):
        try:
            with open(self._abs(relpath), 'rb') as f:
                return f.read()
        except OSError:
            return None

    def _link_target(self, relpath):
        path = self._abs(relpath)
        return os.readlink(path) if os.path.islink(path) else None

    def read(self, layout, prune=True):
        """The ``State`` of the places ``layout`` names, and (``prune``) of every file the layout owns."""
        return State(
            pages={r: self._current_bytes(r) for r in layout.pages},
            existing={r for r in layout.pages if os.path.exists(self._abs(r))},
            links={r: self._link_target(r) for r in layout.links},
            missing=[r for r in layout.referenced if not os.path.isfile(self._abs(r))],
            owned=self.layout_files() if prune else [])

    def layout_files(self):
        """Web-root relative paths of every file (or link) this layout owns, sorted."""
        found = []
        for directory, dirs, filenames in os.walk(self.root):
            dirs.sort()
            for filename in filenames:
                relpath = os.path.relpath(os.path.join(directory, filename), self.root).replace(os.sep, '/')
                if _is_layout_file(relpath):
                    found.append(relpath)
        return sorted(found)

    def apply(self, plan, write):
        """Converge: pages and links first (they only name files already there), the root pages that
        name every image after them, removals last.

        ``write(path, content)`` writes one file atomically (the module passes files.write_file).
        """
        for relpath, content in sorted(plan.writes.items()):
            if relpath not in ROOT_PAGES:
                self._makedirs(relpath)
                write(self._abs(relpath), content)
        for relpath, target in sorted(plan.links.items()):
            self._makedirs(relpath)
            self._replace_link(self._abs(relpath), target)
        for relpath in ROOT_PAGES:
            if relpath in plan.writes:
                write(self._abs(relpath), plan.writes[relpath])
        for relpath in plan.removals:
            os.unlink(self._abs(relpath))
            self._remove_empty_parents(relpath)

    def _makedirs(self, relpath):
        directory = os.path.dirname(self._abs(relpath))
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)

    @staticmethod
    def _replace_link(path, target):
        # A new link under a temporary name renamed over the old one: readers never see no link.
        tmp = '%s.%d.tmp' % (path, os.getpid())
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(target, tmp)
        os.rename(tmp, path)

    def _remove_empty_parents(self, relpath):
        directory = os.path.dirname(self._abs(relpath))
        root = os.path.abspath(self.root)
        while os.path.abspath(directory) != root and os.path.isdir(directory) and not os.listdir(directory):
            os.rmdir(directory)
            directory = os.path.dirname(directory)
