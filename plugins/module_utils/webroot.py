# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that knows a registry's web-root layout.

An image named ``<domain>/<path>`` with labels version/os/arch lives at
``<webroot>/<path>/<version>-<os>-<arch>.aci`` with its signature beside it as ``.aci.asc``; the
signing key is ``<webroot>/pubkeys.gpg``. Discovery pages live in a tree of their own,
``<webroot>/.discovery/<path>.html`` (the server answers ``GET /<path>?ac-discovery=1`` from it),
because ``/<path>`` is already the directory holding the images.
"""

from __future__ import annotations

import os
import posixpath
import re

PUBKEYS_FILE = 'pubkeys.gpg'
DISCOVERY_DIR = '.discovery'
CATALOG_FILE = 'index.html'
LATEST_VERSION = 'latest'
IMAGE_EXT = 'aci'
SIGNATURE_EXT = 'aci.asc'
# The URL template rkt fills in: appc discovery substitutes {version}, {os}, {arch} and {ext}.
FILE_TEMPLATE = '{version}-{os}-{arch}.{ext}'

_AC_IDENTIFIER = re.compile(r'^[a-z0-9]+([-._~/][a-z0-9]+)*$')
_LABEL_VALUE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+~-]*$')


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


class Plan(object):
    """What laying out a web root would change: pages to write, links to set, files to remove."""

    def __init__(self):
        self.writes = {}    # relpath -> bytes
        self.links = {}     # relpath -> link target (relative)
        self.removals = []  # relpaths
        self.missing = []   # relpaths a page would point at but which are not there

    @property
    def changed(self):
        return bool(self.writes or self.links or self.removals)


def _is_layout_file(relpath):
    """Only files this layout owns are ever pruned; anything else in the web root is left alone."""
    if relpath.startswith(DISCOVERY_DIR + '/'):
        return relpath.endswith('.html')
    return relpath.endswith('.' + IMAGE_EXT) or relpath.endswith('.' + SIGNATURE_EXT)


class WebRoot(object):
    """A registry web root on disk: compares it with the images it should serve, then converges."""

    def __init__(self, root, domain, port=443):
        self.root = root
        self.domain = domain
        self.port = port

    def _abs(self, relpath):
        return os.path.join(self.root, *relpath.split('/'))

    def _current_bytes(self, relpath):
        try:
            with open(self._abs(relpath), 'rb') as f:
                return f.read()
        except (IOError, OSError):
            return None

    def expected(self, images, signer_fingerprint='', title=''):
        """Return ``(pages, links, referenced)``: what the web root must hold for ``images``."""
        from ansible_collections.aci.registry.plugins.module_utils import catalog, discovery

        paths = sorted(set(split_name(image['name'], self.domain) for image in images))
        pages = dict((discovery_relpath(p), discovery.render_page(self.domain, p, self.port)) for p in paths)
        pages[CATALOG_FILE] = catalog.catalog_page(self.domain, images, self.port, signer_fingerprint, title)
        referenced = [PUBKEYS_FILE]
        for image in images:
            path = split_name(image['name'], self.domain)
            referenced.append(image_relpath(path, image['version'], image['os'], image['arch']))
            referenced.append(signature_relpath(path, image['version'], image['os'], image['arch']))
        links = {}
        for (name, os_name, arch), version in catalog.latest_versions(images).items():
            path = split_name(name, self.domain)
            for relpath_of in (image_relpath, signature_relpath):
                links[relpath_of(path, LATEST_VERSION, os_name, arch)] = posixpath.basename(
                    relpath_of(path, version, os_name, arch))
        return pages, links, referenced

    def plan(self, images, signer_fingerprint='', title='', prune=True):
        for image in images:
            if image['version'] == LATEST_VERSION:
                raise LayoutError('image %s: "%s" is the alias this registry maintains for the newest version; '
                                  'give the image a real version' % (image['name'], LATEST_VERSION))
        pages, links, referenced = self.expected(images, signer_fingerprint, title)
        plan = Plan()
        plan.missing = [r for r in referenced if not os.path.isfile(self._abs(r))]
        for relpath, content in sorted(pages.items()):
            if self._current_bytes(relpath) != content:
                plan.writes[relpath] = content
        for relpath, target in sorted(links.items()):
            path = self._abs(relpath)
            if not (os.path.islink(path) and os.readlink(path) == target):
                plan.links[relpath] = target
        if prune:
            keep = set(pages) | set(links) | set(referenced)
            plan.removals = [r for r in self.layout_files() if r not in keep]
        return plan

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
        """Converge: pages and links first (they only name files already there), removals last.

        ``write(path, content)`` writes one file atomically (the module passes files.write_file).
        """
        catalog_page = plan.writes.get(CATALOG_FILE)
        for relpath, content in sorted(plan.writes.items()):
            if relpath != CATALOG_FILE:
                self._makedirs(relpath)
                write(self._abs(relpath), content)
        for relpath, target in sorted(plan.links.items()):
            self._makedirs(relpath)
            self._replace_link(self._abs(relpath), target)
        if catalog_page is not None:
            write(self._abs(CATALOG_FILE), catalog_page)
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
