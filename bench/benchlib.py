# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What bench/server.py and bench/site_rerun.py share: the project's environment, podman, host load."""

import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
BENCH = os.path.join(ROOT, 'bench')
IMAGE = 'localhost/aci-registry-debian12:latest'


def log(message):
    print(message, file=sys.stderr, flush=True)


def environment():
    """The project's tools, collections and podman settings (as the Makefile sets them), unless already set."""
    env = dict(os.environ)
    env['PATH'] = os.path.dirname(os.path.abspath(sys.executable)) + os.pathsep + env.get('PATH', '')
    env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, '.build', 'collections'))
    env.setdefault('ANSIBLE_COLLECTIONS_SCAN_SYS_PATH', 'false')
    env.setdefault('CONTAINERS_CONF', os.path.join(ROOT, 'tests', 'hosts', 'containers.conf'))
    env.setdefault('ANSIBLE_FORCE_COLOR', 'false')
    env.setdefault('ANSIBLE_NOCOLOR', 'true')
    return env


ENV = environment()


def run(*argv, check=True, env=None, **kwargs):
    """A command with the project's environment; its output captured unless redirected; exit on failure if check."""
    kwargs.setdefault('stdout', subprocess.PIPE)
    kwargs.setdefault('stderr', subprocess.PIPE)
    result = subprocess.run(argv, env=env or ENV, universal_newlines=True, check=False, **kwargs)
    if check and result.returncode != 0:
        raise SystemExit('%s failed (%d):\n%s%s' % (' '.join(argv), result.returncode,
                                                    result.stdout or '', result.stderr or ''))
    return result


def preflight(image):
    """podman, ansible-playbook, the collections and the test-host image, or say how to get them."""
    if not shutil.which('podman', path=ENV['PATH']):
        raise SystemExit('podman is needed: make deps')
    if not shutil.which('ansible-playbook', path=ENV['PATH']):
        raise SystemExit('ansible-playbook is needed: make venv, then run this with .venv/bin/python')
    collections = ENV['ANSIBLE_COLLECTIONS_PATH'].split(os.pathsep)[0]
    if not os.path.isdir(os.path.join(collections, 'ansible_collections', 'containers', 'podman')):
        raise SystemExit('the collections are not laid out: make collection')
    if run('podman', 'image', 'exists', image, check=False).returncode != 0:
        if image != IMAGE:
            raise SystemExit('image %s not found' % image)
        log('building the test-host image (make image), a few minutes')
        run(os.path.join(ROOT, 'tests', 'hosts', 'build-image.sh'), stdout=None, stderr=None)


def remove_containers(names, network):
    """Our own containers and network only, by name; a leftover of an interrupted run is fine too."""
    if names:
        run('podman', 'rm', '-f', '-t', '5', *names, check=False)
    run('podman', 'network', 'rm', '-f', network, check=False)


def clean_up(names, network, scratch, keep=False):
    """At the end of a benchmark: our containers, network and scratch directory go, or (``keep``) how to remove them."""
    if keep:
        log('kept: podman rm -f %s; podman network rm %s; scratch %s' % (' '.join(names), network, scratch))
    else:
        remove_containers(names, network)
        shutil.rmtree(scratch, ignore_errors=True)


def wait_booted(name, timeout=120):
    """Until systemd in the container has finished starting up."""
    deadline = time.monotonic() + timeout
    state = ''
    while time.monotonic() < deadline:
        state = run('podman', 'exec', name, 'systemctl', 'is-system-running', check=False).stdout.strip()
        if state in ('running', 'degraded'):
            return
        time.sleep(1)
    raise SystemExit('%s did not boot: systemd says %r' % (name, state))


def host_busy():
    """Busy CPU seconds of the whole machine so far (all but idle and iowait), from /proc/stat."""
    with open('/proc/stat') as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf('SC_CLK_TCK')


def loadavg():
    with open('/proc/loadavg') as f:
        return float(f.read().split()[0])
