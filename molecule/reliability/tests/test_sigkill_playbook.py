"""Issue 14, "ansible-playbook killed": site.yml publishing a new version is killed with SIGKILL
(the whole process group) at seeded random moments, a bounded number of times. After each kill
every registry's web root must be consistent (check_webroot.py); then one run converges and a
second changes nothing."""

import json
import os
import random
import re
import signal
import subprocess
import time

import figures
import pytest

from test_load_while_publishing import DOMAIN

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'check_webroot.py')
WEBROOT = '/srv/aci-registry'
KILLS = 4


def images(version):
    rootfs = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'rootfs', 'app-' + version)
    os.makedirs(os.path.join(rootfs, 'bin'), exist_ok=True)
    with open(os.path.join(rootfs, 'bin', 'hello'), 'w') as f:
        f.write('#!/bin/sh\necho hello from app-%s\n' % version)
    os.chmod(os.path.join(rootfs, 'bin', 'hello'), 0o755)
    return {'aci_registry_images': [{'name': 'app', 'version': version, 'rootfs': rootfs,
                                     'manifest': {'exec': ['/bin/hello'], 'user': '0', 'group': '0'}}]}


def site_args(extra):
    return ['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'], 'aci.registry.site',
            '-e', json.dumps(extra)]


def site(extra):
    done = subprocess.run(site_args(extra), capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope='module')
def registries(groups):
    for name in groups['aci_registries']:
        subprocess.run(['podman', 'cp', CHECKER, '%s:/tmp/check_webroot.py' % name], check=True)
    return groups['aci_registries']


def consistent(registries):
    """Problems found on any registry (empty: consistent), and the images checked."""
    problems, checked = [], 0
    for name in registries:
        done = subprocess.run(['podman', 'exec', name, 'python3', '/tmp/check_webroot.py', WEBROOT, DOMAIN],
                              capture_output=True, text=True, timeout=120, check=True)
        result = json.loads(done.stdout)
        problems += ['%s: %s' % (name, p) for p in result['problems']]
        checked += result['images']
    return problems, checked


def test_killed_publishes_leave_every_web_root_consistent(registries):
    started = time.monotonic()
    site(images('v0.1.0'))
    whole = time.monotonic() - started
    assert consistent(registries)[0] == []
    # Seeded: the same moments on every run of the suite, spread over a whole publish.
    moments = sorted(random.Random(14).uniform(2, whole) for _kill in range(KILLS))
    checked, killed = 0, 0
    for n, moment in enumerate(moments):
        run = subprocess.Popen(site_args(images('v0.1.%d' % (n + 1))), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            run.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=30)
            killed += 1
        # Module processes already started on a host run to their end, as after a lost SSH link.
        time.sleep(3)
        problems, images_checked = consistent(registries)
        checked += images_checked
        assert problems == [], 'after a SIGKILL at %.1f s: %s' % (moment, problems)
    figures.record('faults', 'site.yml SIGKILLed at random moments', killed)
    figures.record('faults', 'web roots consistent after each kill', '%d of %d' % (len(moments), len(moments)))
    figures.record('faults', 'images verified in those web roots', checked)
    last = images('v0.1.%d' % KILLS)
    site(last)
    assert consistent(registries)[0] == []
    again = site(last)
    changed = [int(n) for n in re.findall(r'changed=(\d+)', again)]
    figures.record('faults', 'run after the kills converges; the next changes nothing', 'yes' if not any(changed) else 'no',
                   ok=not any(changed))
    assert changed and not any(changed), again[-3000:]
