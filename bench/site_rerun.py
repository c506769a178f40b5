# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: wall time of an idempotent `site.yml` rerun for 1 and for 3 registry hosts.

Three systemd containers from the project's test image (aci-bench-reg1..3, their own network),
group_vars like molecule/registry's (ECDSA TLS keys, an RSA 2048 signing key, four tiny images),
connected over SSH with pipelining as a fleet is (`--connection podman`: the test harness's
podman connection instead). The whole site is converged once over all three hosts; then
`ansible-playbook -i INVENTORY aci.registry.site` is rerun, alternating an inventory with one
registry and one with three, N times each. Every rerun must report changed=0. Printed: median
wall time per size, the 3-host/1-host ratio (goal: under 1.5x), the controller's CPU time, and
the tasks that take the time (a small callback plugin, bench/callback_plugins/bench_timer.py),
so a missed goal comes with where the time goes. Containers and network are removed at the end.

    .venv/bin/python bench/site_rerun.py                 # N=3 reruns of each size
    .venv/bin/python bench/site_rerun.py --runs 5 --client
    .venv/bin/python bench/site_rerun.py --connection podman

Over SSH (openssh-server is installed in the containers from Debian's mirror through their NAT)
every module run is one `ssh` through a control master. The podman connection cannot pipeline: a
module run is six `podman` calls (mount, echo ~, mkdir, chmod, python, rm), about a second of
latency each on this machine, which is the test harness's cost, not the collection's.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

from benchlib import BENCH, ENV, IMAGE, host_busy, loadavg, log, preflight, remove_containers, run, wait_booted

NETWORK = 'aci-bench-site'
REGISTRIES = ['aci-bench-reg1', 'aci-bench-reg2', 'aci-bench-reg3']
CLIENT = 'aci-bench-client'
SIZES = (1, 3)

# The images molecule/registry publishes: small, so the rerun measures the site's overhead, not
# compression. Each rootfs holds one script with different content.
IMAGES = [('app', 'v0.0.1'), ('app', 'v0.0.2'), ('app1', 'v1.0.0'), ('team/tool', '1.0')]

RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def connection_vars(scratch, connection):
    if connection == 'podman':
        return {'ansible_connection': 'containers.podman.podman'}
    return {
        'ansible_connection': 'ansible.builtin.ssh',
        'ansible_user': 'root',
        'ansible_ssh_private_key_file': os.path.join(scratch, 'ssh', 'id_ed25519'),
        # Throw-away containers with fresh host keys on a private network.
        'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
        'ansible_ssh_pipelining': True,
    }


def group_vars(scratch, connection):
    execute = {'exec': ['/bin/hello'], 'user': '0', 'group': '0'}
    images = []
    for name, version in IMAGES:
        rootfs = os.path.join(scratch, 'rootfs', '%s-%s' % (name.replace('/', '-'), version))
        os.makedirs(os.path.join(rootfs, 'bin'), exist_ok=True)
        hello = os.path.join(rootfs, 'bin', 'hello')
        with open(hello, 'w') as f:
            f.write('#!/bin/sh\necho hello from %s %s\n' % (name, version))
        os.chmod(hello, 0o755)
        images.append({'name': name, 'version': version, 'rootfs': rootfs, 'manifest': execute})
    return dict(connection_vars(scratch, connection), **{
        'ansible_python_interpreter': '/usr/bin/python3',
        'aci_registry_domain': 'registry.aci.test',
        'aci_registry_state_dir': os.path.join(scratch, 'state'),
        # Small keys, so the first converge is quick: ECDSA for TLS, RSA 2048 for the OpenPGP
        # signing key (rkt 1.30 reads no ECDSA OpenPGP key). A rerun makes no key at all, so this
        # does not change what is measured.
        'pki_key_type': 'ecdsa',
        'pki_ca_key_type': 'ecdsa',
        'aci_registry_signing_key': {'name_real': 'aci.registry bench signer', 'algorithm': 'rsa2048'},
        'aci_registry_images': images,
    })


def write_inventory(scratch, registries, client, addresses, connection):
    """An inventory directory (hosts.yml + group_vars/all.yml) as a user lays one out. JSON is YAML."""
    path = os.path.join(scratch, 'inventory-%d' % len(registries))
    os.makedirs(os.path.join(path, 'group_vars'))

    def host(name):
        return {'ansible_host': addresses[name]} if connection == 'ssh' else None

    hosts = {'aci_registries': {'hosts': {name: host(name) for name in registries}}}
    if client:
        hosts['aci_clients'] = {'hosts': {CLIENT: host(CLIENT)}}
    with open(os.path.join(path, 'hosts.yml'), 'w') as f:
        json.dump(hosts, f, indent=1)
    with open(os.path.join(path, 'group_vars', 'all.yml'), 'w') as f:
        json.dump(group_vars(scratch, connection), f, indent=1)
    return path


def enable_ssh(scratch, names):
    """openssh-server in each container, our key authorized for root; the containers' addresses."""
    key = os.path.join(scratch, 'ssh', 'id_ed25519')
    os.makedirs(os.path.dirname(key), mode=0o700)
    run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'aci-bench', '-f', key)
    apt = ('export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && '
           'apt-get install -y -qq --no-install-recommends openssh-server >/dev/null 2>&1 && '
           'systemctl enable --now -q ssh && install -d -m 0700 /root/.ssh')
    # One container at a time keeps the mirror's load and the output readable; a few seconds each.
    addresses = {}
    for name in names:
        if run('podman', 'exec', name, 'sh', '-c', apt, check=False).returncode != 0:
            raise SystemExit('could not install openssh-server in %s from Debian\'s mirror (is it reachable '
                             'through the container\'s NAT?); measure with --connection podman instead' % name)
        run('podman', 'cp', key + '.pub', '%s:/root/.ssh/authorized_keys' % name)
        run('podman', 'exec', name, 'chown', 'root:root', '/root/.ssh/authorized_keys')
        addresses[name] = run('podman', 'inspect', '-f', '{{(index .NetworkSettings.Networks "%s").IPAddress}}' % NETWORK,
                              name).stdout.strip()
    return addresses


def start_containers(image, names):
    remove_containers(names, NETWORK)
    run('podman', 'network', 'create', NETWORK)
    for name in names:
        # As molecule/registry's platforms: systemd as PID 1, not privileged.
        run('podman', 'run', '-d', '--name', name, '--hostname', name, '--network', NETWORK,
            '--systemd=always', image, '/sbin/init')
    for name in names:
        wait_booted(name)


def podman_counter(scratch):
    """A podman in front of the real one that notes each call: the connection's cost is per call."""
    real = shutil.which('podman', path=ENV['PATH'])
    shim = os.path.join(scratch, 'bin')
    os.makedirs(shim)
    with open(os.path.join(shim, 'podman'), 'w') as f:
        f.write('#!/bin/sh\necho "$1" >> "$BENCH_PODMAN_LOG"\nexec %s "$@"\n' % real)
    os.chmod(os.path.join(shim, 'podman'), 0o755)
    return shim


def site(scratch, inventory, label):
    """One ansible-playbook run of aci.registry.site: wall and CPU time, recap, task times, podman calls."""
    timer = os.path.join(scratch, '%s.tasks.json' % label)
    logfile = os.path.join(scratch, '%s.log' % label)
    calls = os.path.join(scratch, '%s.podman' % label)
    env = dict(ENV, ANSIBLE_CALLBACK_PLUGINS=os.path.join(BENCH, 'callback_plugins'),
               ANSIBLE_CALLBACKS_ENABLED='bench_timer', BENCH_TIMER_FILE=timer, BENCH_PODMAN_LOG=calls,
               PATH=os.path.join(scratch, 'bin') + os.pathsep + ENV['PATH'],
               # SSH control masters of their own: every run pays its connection set-up.
               ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(scratch, 'cp-%s' % label))
    busy0, load0 = host_busy(), loadavg()
    with open(logfile, 'w') as out:
        start = time.monotonic()
        proc = subprocess.Popen(['ansible-playbook', '-i', inventory, 'aci.registry.site'],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
        # wait4: the CPU time of ansible-playbook and everything it waited for (its forks and
        # their podman processes), i.e. what the controller spent.
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
    busy = host_busy() - busy0
    with open(logfile) as f:
        text = f.read()
    if status != 0:
        raise SystemExit('%s failed; the end of %s:\n%s' % (label, logfile, text[-4000:]))
    recap = {m.group(1): {'ok': int(m.group(2)), 'changed': int(m.group(3)), 'failed': int(m.group(5))}
             for m in RECAP.finditer(text)}
    with open(timer) as f:
        tasks = json.load(f)['tasks']
    cpu = usage.ru_utime + usage.ru_stime
    podman_calls = 0
    if os.path.exists(calls):
        with open(calls) as f:
            podman_calls = len(f.readlines())
    return {'wall': wall, 'cpu': cpu, 'podman_calls': podman_calls, 'others_cores': max(busy - cpu, 0.0) / wall, 'load': max(load0, loadavg()),
            'recap': recap, 'tasks': tasks, 'log': logfile}


def task_profile(runs):
    """Median seconds per task (in playbook order) over runs of the same inventory."""
    table = {}
    order = []
    for result in runs:
        seen = {}
        for task in result['tasks']:
            # The same name can come twice (a role applied twice); number repeats to keep them apart.
            key = (task['play'], task['name'], seen.setdefault((task['play'], task['name']), 0))
            seen[(task['play'], task['name'])] += 1
            if key not in table:
                table[key] = []
                order.append(key)
            table[key].append(task)
    return [(key, statistics.median(t['seconds'] for t in table[key]), table[key][-1]) for key in order]


def role_of(name):
    return name.split(' : ', 1)[0] if ' : ' in name else '(play)'


def report(results, runs, first, top, connection):
    one, three = (results[size] for size in SIZES)
    walls = {size: [r['wall'] for r in results[size]] for size in SIZES}
    medians = {size: statistics.median(walls[size]) for size in SIZES}
    all_runs = one + three
    print('\nsite.yml idempotent rerun (every run changed=0): %d run(s) per size, alternating 1 and 3 hosts, '
          'connection %s' % (runs, 'ssh with pipelining' if connection == 'ssh' else 'containers.podman.podman'))
    print('Machine: %d cores; 1-min load %.2f-%.2f during the reruns; other processes used %.2f cores on average'
          % (os.cpu_count() or 0, min(r['load'] for r in all_runs), max(r['load'] for r in all_runs),
             statistics.mean(r['others_cores'] for r in all_runs)))
    print('First converge of all hosts: %.0f s\n' % first)
    print('  %-16s %10s %22s %18s %14s %7s' % (
        'registry hosts', 'median s', 'runs s', 'controller CPU s', 'podman calls', 'tasks'))
    for size in SIZES:
        print('  %-16d %10.1f %22s %18.1f %14d %7d' % (
            size, medians[size], ' '.join('%.1f' % w for w in walls[size]),
            statistics.median(r['cpu'] for r in results[size]), results[size][0]['podman_calls'],
            len(results[size][0]['tasks'])))
    ratio = medians[3] / medians[1]
    print('  3 hosts / 1 host: %.2fx wall (goal < 1.5x: %s), %.2fx controller CPU' % (
        ratio, 'met' if ratio < 1.5 else 'MISSED',
        statistics.median(r['cpu'] for r in three) / statistics.median(r['cpu'] for r in one)))

    profile1 = {key: seconds for key, seconds, _task in task_profile(one)}
    profile3 = task_profile(three)
    roles = {}
    for key, seconds, task in profile3:
        entry = roles.setdefault(role_of(key[1]), [0.0, 0.0, 0])
        entry[0] += profile1.get(key, 0.0)
        entry[1] += seconds
        entry[2] += 1
    print('\nWhere the time goes, by role (median per task, summed):')
    print('  %-28s %6s %9s %9s %7s' % ('role', 'tasks', '1 host s', '3 hosts s', '3/1'))
    for role, (s1, s3, count) in sorted(roles.items(), key=lambda kv: -kv[1][1]):
        print('  %-28s %6d %9.1f %9.1f %6.2fx' % (role, count, s1, s3, s3 / s1 if s1 else float('nan')))
    print('\nThe %d slowest tasks with 3 hosts (median s; items = loop items over all hosts):' % top)
    print('  %-72s %8s %8s %6s' % ('task', '1 host', '3 hosts', 'items'))
    for key, seconds, task in sorted(profile3, key=lambda row: -row[1])[:top]:
        print('  %-72s %8.2f %8.2f %6d' % (key[1][:72], profile1.get(key, 0.0), seconds, task['items']))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--runs', type=int, default=3, help='reruns per size; the median counts (3)')
    parser.add_argument('--client', action='store_true', help='add one aci_clients host to both inventories')
    parser.add_argument('--top', type=int, default=12, help='how many of the slowest tasks to list (12)')
    parser.add_argument('--image', default=IMAGE, help='the test-host image (%s)' % IMAGE)
    parser.add_argument('--connection', choices=('ssh', 'podman'), default='ssh',
                        help='how ansible reaches the hosts: ssh with pipelining, as a fleet (default), '
                             'or the test harness\'s podman connection')
    parser.add_argument('--keep', action='store_true', help='leave the containers running')
    args = parser.parse_args()

    preflight(args.image)
    names = REGISTRIES + ([CLIENT] if args.client else [])
    scratch = tempfile.mkdtemp(prefix='aci-bench-site.')
    started = time.monotonic()
    try:
        log('starting %s' % ', '.join(names))
        start_containers(args.image, names)
        podman_counter(scratch)
        addresses = enable_ssh(scratch, names) if args.connection == 'ssh' else {}
        inventories = {size: write_inventory(scratch, REGISTRIES[:size], args.client, addresses, args.connection)
                       for size in SIZES}
        log('converging all hosts once')
        first = site(scratch, inventories[3], 'converge')
        results = {size: [] for size in SIZES}
        for number in range(1, args.runs + 1):
            for size in SIZES:
                result = site(scratch, inventories[size], 'rerun-%d-%d' % (size, number))
                changed = {host: r['changed'] for host, r in result['recap'].items() if r['changed']}
                if changed:
                    raise SystemExit('rerun %d with %d host(s) was not idempotent: changed %s (see %s)'
                                     % (number, size, changed, result['log']))
                results[size].append(result)
                log('rerun %d, %d host(s): %.1f s wall, %.1f s controller CPU, load %.2f, others %.2f cores'
                    % (number, size, result['wall'], result['cpu'], result['load'], result['others_cores']))
        report(results, args.runs, first['wall'], args.top, args.connection)
        print('\nTotal time %.0f s.' % (time.monotonic() - started))
    finally:
        if args.keep:
            log('kept: podman rm -f %s; podman network rm %s; scratch %s' % (' '.join(names), NETWORK, scratch))
        else:
            remove_containers(names, NETWORK)
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == '__main__':
    main()
