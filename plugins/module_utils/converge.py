# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one shape of every module in this collection (CONTRIBUTING.md has a worked example).

A module file holds its documentation, its argument spec and a ``main()`` of a few lines that
hands the ``AnsibleModule`` and a ``Resource`` to ``run``. The resource answers four questions:

- ``current()``: what is there;
- ``desired(current)``: what should be there;
- ``differences(current, desired)``: why they differ, as short reasons (none: nothing to do);
- ``apply(current, desired, reasons)``: make it so.

``run`` alone decides what ``changed``, check mode and diff mode mean, so they mean the same in
every module: ``changed`` is "there were reasons", ``apply`` never runs in check mode, the diff is
built from the same two answers that decided ``changed``, and every expected error becomes one
``fail_json`` with a message, never a traceback.
"""

from __future__ import annotations

import contextlib


class ModuleError(Exception):
    """A failure to report: ``msg`` for the user and extra result fields (``details``)."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


class Resource:
    """What one module manages. Subclasses override the four questions and, where needed, the hooks."""

    #: Exception types of the module's libraries whose message is the failure message.
    errors = ()

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.warnings = []

    def current(self):
        """What is there now, in a form ``desired`` and ``differences`` can compare with."""
        raise NotImplementedError

    def desired(self, current):
        """What should be there. May read ``current`` (to keep a key that may stay, say)."""
        raise NotImplementedError

    def differences(self, current, desired):
        """Short reasons why ``current`` is not ``desired``; empty when nothing is to be done."""
        return [] if current == desired else ['differs']

    def apply(self, current, desired, reasons):
        """Make it so; returns extra result fields. Never called in check mode or without reasons."""
        raise NotImplementedError

    def settle(self, changed):
        """After ``apply`` (or instead of it): attributes such as mode and owner; returns ``changed``.

        ``module.set_fs_attributes_if_different`` already reports without changing in check mode.
        """
        return changed

    def result(self, current, desired, reasons):
        """The module's return values besides ``changed`` and ``diff``."""
        return {}

    def diff(self, current, desired):
        """The ``before``/``after`` of diff mode; never key material. ``None`` when the module has no diff mode."""
        return dict(before=current, after=desired)

    def failure(self, error):
        """Extra result fields for a failure raised as one of ``errors``."""
        return {}

    def close(self):
        """Releases what the answers opened (an archive read from ``desired`` to ``apply``).

        ``run`` calls it once, before it ends the module, whether the run succeeded or failed.
        """


def decide(module, resource):
    """The three answers that decide a change: ``(current, desired, reasons)``; nothing is written."""
    current = resource.current()
    desired = resource.desired(current)
    return current, desired, list(resource.differences(current, desired))


def conclude(module, resource, current, desired, reasons):
    """Apply what ``decide`` found (never in check mode) and return the result, ``changed`` and ``diff`` included.

    Apart from ``decide`` so that a module managing many resources (aci_image_set) decides for all
    of them, and refuses bad input, before it writes anything.
    """
    applied = {}
    if reasons and not module.check_mode:
        applied = resource.apply(current, desired, reasons) or {}
    changed = resource.settle(bool(reasons))
    result = dict(resource.result(current, desired, reasons), **applied)
    result['changed'] = changed
    diff = resource.diff(current, desired) if module._diff else None
    if diff is not None:
        result['diff'] = diff
    return result


def _converge(module, resource):
    return conclude(module, resource, *decide(module, resource))


def _warn(module, resource):
    # Before exit_json or fail_json alike: a warning that led up to a failure explains it.
    for warning in resource.warnings:
        module.warn(warning)


def run(module, resource):
    """Converge ``resource`` and end the module with ``exit_json`` or ``fail_json``."""
    try:
        with contextlib.closing(resource):
            result = _converge(module, resource)
    except ModuleError as e:
        _warn(module, resource)
        module.fail_json(msg=e.msg, **e.details)
    except resource.errors as e:
        _warn(module, resource)
        module.fail_json(msg=str(e), **resource.failure(e))
    except OSError as e:
        # The host said no (a full disk, a permission, a read-only file system): its words and the
        # path, not a traceback. files.write_file has already put the previous file back.
        _warn(module, resource)
        module.fail_json(msg='%s: %s' % (e.filename, e.strerror) if e.filename else str(e))
    _warn(module, resource)
    module.exit_json(**result)
