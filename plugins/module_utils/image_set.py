# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A whole set of images built and signed in one module run: the side of aci_image_set.

Each image is what aci_build (``build.BuiltImage``) or aci_from_docker (``docker_convert.ConvertedImage``)
makes, and its signature what aci_sign (``signature.Signature``) keeps, each run on a view of the
module that carries that image's options, as the single-image module would have been called. So
the no-op is theirs: the image streamed and compared with the file, its ID from the identity
record, the signature verified. One ``signature.Signer`` (key listed, public key imported once)
serves every image.

Every image is checked and compared before anything is written: bad input anywhere fails the run
with every bad image named and nothing changed. Then the images that differ are written and the
signatures that are missing or no longer verify are made, a few at a time (gpg is a subprocess).
"""

from __future__ import annotations

import concurrent.futures
import os
import time

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.aci.registry.plugins.module_utils import (
    aci, build, converge, docker_convert, gpg, image_record, signature,
)
from ansible_collections.aci.registry.plugins.module_utils.manifest import ManifestError

#: Images worked on at once: gpg runs in its own process, and a tiny image is mostly waiting for it.
WORKERS = 4

_BUILD_SPEC = build.argument_spec()
_DOCKER_SPEC = docker_convert.argument_spec()


def published_at(path):
    """The file's mtime as ISO 8601 UTC (``2026-12-03T07:30:00Z``): when the controller last wrote it."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(os.stat(path).st_mtime))


class ImageModule:
    """The module as one image's resources see it: that image's options, everything else the module's."""

    #: The diff of a set is its per-image report, not 100 manifests.
    _diff = False

    def __init__(self, module, params):
        self._module = module
        self.params = params
        self.dry = False  # decide as in check mode, whatever the module's mode

    @property
    def check_mode(self):
        return self.dry or self._module.check_mode

    def fail_json(self, msg, **details):
        # A helper that ends a single-image module (files.check_writable_dir) fails one image of a set:
        # the set reports it with the others, from the main thread.
        raise converge.ModuleError(msg, **details)

    def __getattr__(self, name):
        return getattr(self._module, name)


def _validated(spec, options, label, mutually_exclusive=None, required_one_of=None):
    """``options`` checked and filled in as the single-image module's AnsibleModule would."""
    validator = ArgumentSpecValidator(spec, mutually_exclusive=mutually_exclusive, required_one_of=required_one_of)
    # An option left out is absent, not None, or every source would count as given.
    result = validator.validate(dict((key, value) for key, value in options.items() if value is not None))
    if result.error_messages:
        raise converge.ModuleError('%s: %s' % (label, '; '.join(result.error_messages)), image=label)
    return result.validated_parameters


def _image_options(record, label):
    """The options of aci_build (or aci_from_docker) that make ``record``'s image."""
    source, output = record['source'], dict(dest=record['dest'], compression=record['compression'],
                                            owner_root=record['owner_root'])
    if record['kind'] == 'docker':
        options = dict(output, src=source['docker_archive'], tag=source.get('docker_tag'), name=record['name'],
                       version=record['version'])
        return _validated(_DOCKER_SPEC, options, label)
    options = dict(output, name=record['name'], labels=record['labels'], manifest=record['manifest'] or None,
                   **dict((key, source.get(key)) for key in image_record.BUILD_SOURCES))
    return _validated(_BUILD_SPEC, options, label, build.MUTUALLY_EXCLUSIVE, build.REQUIRED_ONE_OF)


def _failure(label, error):
    """One line for an image that cannot be built or signed, as the single-image module would say it."""
    if isinstance(error, converge.ModuleError):
        return error.msg if error.msg.startswith(label) else '%s: %s' % (label, error.msg)
    if isinstance(error, OSError) and error.filename:
        return '%s: %s: %s' % (label, error.filename, error.strerror)
    return '%s: %s' % (label, error)


class Entry:
    """One image of the set: its record, its image resource and, later, its signature resource."""

    def __init__(self, module, record):
        self.record = record
        self.label = '%s:%s (%s/%s)' % (record['name'], record['version'], record['os'], record['arch'])
        self.module = module
        self.view = ImageModule(module, dict(module.params, **_image_options(record, self.label)))
        kind = docker_convert.ConvertedImage if record['kind'] == 'docker' else build.BuiltImage
        self.image = kind(self.view)
        self.decided = None       # (current, desired, reasons) of the image
        self.built = None         # the image resource's result
        self.built_reasons = []
        self.signed_reasons = []
        self.sign_settled = False  # the kept signature's mode or owner put right

    def waiting_for_upstream(self):
        """In check mode an upstream image that is not fetched yet is not there to re-package."""
        return (self.module.check_mode and self.record['kind'] == 'upstream'
                and not os.path.exists(self.record['source']['from_aci']))

    def decide(self):
        if self.waiting_for_upstream():
            self.built_reasons = ['upstream image not fetched yet']
            return
        # A new image's directory is made only once every image has been decided: until then nothing is
        # written, and the image, having no file to compare with, is decided as in check mode.
        self.view.dry = not os.path.isdir(os.path.dirname(self.record['dest']))
        self.decided = converge.decide(self.view, self.image)
        self.built_reasons = self.decided[2]

    def conclude(self):
        if self.decided is None:
            return
        if self.view.dry and not self.module.check_mode:
            os.makedirs(os.path.dirname(self.record['dest']), 0o700, exist_ok=True)
            self.view.dry = False
        self.built = converge.conclude(self.view, self.image, *self.decided)

    def sign(self, signer):
        if self.module.check_mode and self.built_reasons:
            # The image the run would write is not there to sign: its signature is a change too.
            self.signed_reasons = ['the image changes']
            return
        params = dict(self.module.params, path=self.record['dest'], dest=None, backup=False)
        resource = signature.Signature(ImageModule(self.module, params), signer=signer)
        current, desired, reasons = converge.decide(resource.module, resource)
        self.sign_settled = converge.conclude(resource.module, resource, current, desired, reasons)['changed']
        self.signed_reasons = reasons

    def close(self):
        self.image.close()

    def rebuilt(self):
        """An image already built (so perhaps already served) written again with other bytes."""
        return bool(self.decided) and bool(self.built_reasons) and 'missing' not in self.built_reasons

    def changed(self):
        return bool(self.built_reasons or self.signed_reasons or self.sign_settled or (self.built or {}).get('changed'))

    def catalog_entry(self):
        """What aci_webroot takes for this image."""
        built = self.built or {}
        manifest = built.get('manifest') or {}
        dest = self.record['dest']
        fresh = self.built_reasons or not os.path.exists(dest)
        return dict(
            name=self.record['name'], version=self.record['version'], os=self.record['os'],
            arch=self.record['arch'], latest=self.record['latest'], image_id=built.get('image_id') or '',
            size=built.get('size') or 0,
            # In check mode an image that would be written gets the time it would be written at.
            published=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()) if fresh and self.module.check_mode
            else published_at(dest),
            exec=list((manifest.get('app') or {}).get('exec') or []),
            labels=dict((label['name'], label['value']) for label in manifest.get('labels') or []),
            unpacked_size=built.get('tar_size') or 0)

    def report(self):
        return dict(name=self.record['name'], version=self.record['version'], os=self.record['os'],
                    arch=self.record['arch'], image=self.record['image'], built=self.built_reasons,
                    signed=self.signed_reasons, changed=self.changed())


#: A registry replaces a served image before its signature, each file atomically but not the pair:
#: a client fetching that version meanwhile can get the image of one build and the signature of the
#: other, which rkt refuses. Nothing the registry does closes that gap; a new version avoids it.
REBUILT = ('%s: already built, now written again with other bytes (%s). Registries that serve this version '
           'will replace it, and a client fetching it during the publish may get the image of one build '
           'and the signature of the other, which rkt refuses. Publish changed content under a new version.')

#: What an image's steps raise for bad input or a refusing host; anything else is a bug and may trace back.
_EXPECTED = (converge.ModuleError, ManifestError, aci.AciError, gpg.GpgError, OSError, ValueError)


class ImageSet:
    """aci_image_set: every record of ``images`` built into ``dest`` and signed by ``fingerprint``."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.entries = []

    def _each(self, step, entries):
        """``step(entry)`` for each entry, a few at once; the failures as one message per image."""
        failures = []

        def guarded(entry):
            try:
                step(entry)
            except _EXPECTED as e:
                return _failure(entry.label, e)
            return None

        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
            failures = [f for f in pool.map(guarded, entries) if f]
        if failures:
            done = [e.record['image'] for e in self.entries if e.changed() and e.built is not None]
            raise converge.ModuleError('%d image(s) failed: %s' % (len(failures), ' | '.join(failures)),
                                       failures=failures, written=done)

    def _entries(self):
        failures, entries = [], []
        for number, record in enumerate(self.params['images']):
            try:
                entries.append(Entry(self.module, record))
            except converge.ModuleError as e:
                failures.append(e.msg)
            except (KeyError, TypeError) as e:
                failures.append('images[%d]: not a record of the aci.registry.aci_image_records filter (%s); '
                                'make the records with that filter' % (number, e))
        if failures:
            raise converge.ModuleError('%d image(s) refused, nothing was written: %s'
                                       % (len(failures), ' | '.join(failures)), failures=failures)
        return entries

    def _signer(self):
        if not self.params['fingerprint']:
            if self.module.check_mode:
                return None  # the key is made by this run: every signature is a change
            raise converge.ModuleError('fingerprint is empty: give the fingerprint of the signing key in gnupghome')
        return signature.Signer(self.params['gnupghome'], self.params['fingerprint'], self.params['passphrase'])

    def converge(self):
        """Build, then sign; returns the module's result."""
        self.entries = self._entries()
        signer = None
        try:
            # Refused before anything is written: bad input of one image stops the whole set.
            signer = self._signer()
            self._each(Entry.decide, self.entries)
            self._each(Entry.conclude, self.entries)
            if signer is None:
                for entry in self.entries:
                    entry.signed_reasons = ['the signing key is made by this run']
            else:
                self._each(lambda entry: entry.sign(signer), self.entries)
        finally:
            for entry in self.entries:
                entry.close()
            if signer is not None:
                signer.close()
        for entry in self.entries:
            for warning in entry.image.warnings:
                self.module.warn('%s: %s' % (entry.label, warning))
            if entry.rebuilt():
                self.module.warn(REBUILT % (entry.label, ', '.join(entry.built_reasons)))
        return dict(changed=any(e.changed() for e in self.entries),
                    images=[e.catalog_entry() for e in self.entries],
                    changes=[e.report() for e in self.entries])


def run(module):
    """End the module with the set's result, or one failure naming every image that failed."""
    gpg.require_gnupg(module)
    try:
        result = ImageSet(module).converge()
    except converge.ModuleError as e:
        module.fail_json(msg=e.msg, **e.details)
    except (gpg.GpgError, OSError) as e:
        module.fail_json(msg=_failure('signing key', e))
    module.exit_json(**result)
