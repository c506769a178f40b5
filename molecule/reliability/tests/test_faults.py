"""Issue 14, "kill -9": a registry's nginx dies hard (master, then a worker), and its container
restarts; systemd (Restart=on-failure in roles/server) must bring the service back, with the same
content. The gaps are figures, not assertions on time (bounded by a 30 s poll)."""

import json
import os
import subprocess
import time

import figures
import pytest

from conftest import name_pointed_at

DOMAIN = 'registry.reliability.test'
URL = 'https://%s/pubkeys.gpg' % DOMAIN
POLLER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'poll_https.py')
WEBROOT = '/srv/aci-registry'
SERVICE = 'aci-registry'


@pytest.fixture(scope='module')
def pair(hosts_in, groups):
    client = hosts_in('aci_clients')[0]
    registry = hosts_in('aci_registries')[0]
    name = groups['aci_registries'][0]
    client_name = groups['aci_clients'][0]
    subprocess.run(['podman', 'cp', POLLER, '%s:/tmp/poll_https.py' % client_name], check=True)
    with name_pointed_at(client, DOMAIN, name):
        yield client, registry, name, client_name


def start_poller(client_name, deadline=30, quiet_after=None):
    args = ['podman', 'exec', client_name, 'python3', '/tmp/poll_https.py', URL, str(deadline)]
    if quiet_after is not None:
        args.append(str(quiet_after))
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def finish(poller):
    out, _err = poller.communicate(timeout=150)
    return json.loads(out)


def nginx_pids(registry):
    """(master, [workers]) of the service's nginx, found through its cgroup."""
    master = registry.check_output("ps -eo pid,args | awk '/nginx: master/ && !/awk/ {print $1}'").split()
    workers = registry.check_output("ps -eo pid,args | awk '/nginx: worker/ && !/awk/ {print $1}'").split()
    assert master, 'no nginx master running on the registry'
    return master[0], workers


def webroot_hash(registry):
    return registry.check_output(
        "cd %s && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum" % WEBROOT)


def wait_active(registry, bound=30):
    end = time.monotonic() + bound
    while time.monotonic() < end:
        if registry.run('systemctl is-active %s' % SERVICE).stdout.strip() == 'active':
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize('which', ['master', 'worker'])
def test_kill_9_nginx_comes_back(pair, which):
    client, registry, _name, client_name = pair
    assert wait_active(registry)
    master, workers = nginx_pids(registry)
    victim = master if which == 'master' else workers[0]
    restarts_before = registry.check_output('systemctl show -p NRestarts --value %s' % SERVICE)
    # A worker's death is nginx's own business (the master respawns it): no gap may be seen at all.
    poller = start_poller(client_name, quiet_after=5 if which == 'worker' else None)
    time.sleep(0.5)
    registry.run_expect([0], 'kill -9 %s' % victim)
    result = finish(poller)
    if which == 'master':
        assert result['down_at'] is not None and result['up_at'] is not None, result
        gap = result['up_at'] - result['down_at']
        figures.record('faults', 'nginx master kill -9: gap', round(gap, 2), 's')
        assert registry.check_output('systemctl show -p NRestarts --value %s' % SERVICE) != restarts_before
    else:
        gap = 0.0 if result['down_at'] is None else (result['up_at'] or 30) - result['down_at']
        figures.record('faults', 'nginx worker kill -9: gap', round(gap, 2), 's', ok=result['up_at'] is not None or result['down_at'] is None)
        assert result['down_at'] is None or result['up_at'] is not None, result
        assert nginx_pids(registry)[0] == master, 'a worker kill should leave the master alone'
    assert wait_active(registry)


def test_container_restart_same_content(pair):
    client, registry, name, client_name = pair
    before = webroot_hash(registry)
    started = time.monotonic()
    subprocess.run(['podman', 'restart', name], check=True, timeout=120)
    # The restarted container may have a new address: point the name at it again, as DNS would.
    with name_pointed_at(client, DOMAIN, name) as address:
        # A container boot on a busy 2-core machine can take a while: 90 s bound.
        poller = start_poller(client_name, deadline=90, quiet_after=0)
        result = finish(poller)
    # Up at the first poll (restart done before polling began) or down, then up again.
    assert result['up_at'] is not None or result['down_at'] is None, (
        result, address, registry.run('hostname -I; systemctl is-system-running; systemctl status --no-pager %s' % SERVICE).stdout)
    gap = time.monotonic() - started
    figures.record('faults', 'registry container restart: back serving after', round(gap, 2), 's')
    assert wait_active(registry)
    assert webroot_hash(registry) == before
