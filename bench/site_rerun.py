# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: wall time of an idempotent `site.yml` rerun for 1, 3 (or more) registry hosts; bytes a new image costs.

Systemd containers from the project's test image (aci-bench-reg1..N, their own network),
group_vars like molecule/registry's (ECDSA TLS keys, an RSA 2048 signing key, four tiny images),
connected over SSH with pipelining as a fleet is (`--connection podman`: the test harness's
podman connection instead). The whole site is converged once over all hosts; then
`ansible-playbook -i INVENTORY aci.registry.site` is rerun, cycling through an inventory per size
(--sizes, 1 and 3 registries by default), N times each. Every rerun must report changed=0.
Printed: median wall time per size, each size's ratio to the smallest (goal: under 1.5x), the
controller's CPU time, and the tasks that take the time (a small callback plugin,
bench/callback_plugins/bench_timer.py), so a missed goal comes with where the time goes.

With --new-image-mb, a new image of that many MB (incompressible) is then published to the
largest size and another one to a single registry, and the bytes the controller sent into the
containers' network (the bridge's transmit counter on the controller) are compared: replicas take
a new image from a peer, so the goal is within 1.1x. Containers and network are removed at the end.

    .venv/bin/python bench/site_rerun.py                 # N=3 reruns of 1 and 3 registries
    .venv/bin/python bench/site_rerun.py --sizes 1,3,10 --new-image-mb 200
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

from benchlib import BENCH, ENV, IMAGE, clean_up, host_busy, loadavg, log, preflight, remove_containers, run, wait_booted

NETWORK = 'aci-bench-site'
CLIENT = 'aci-bench-client'
# Ratio goals: a rerun for the largest size against the smallest (issues 6 and 16), and the bytes
# for a new image to the largest size against one registry (issue 16).
RERUN_GOAL = 1.5
BYTES_GOAL = 1.1

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


def registry_names(count):
    return ['aci-bench-reg%d' % number for number in range(1, count + 1)]


def big_rootfs(rootfs, megabytes):
    """``megabytes`` of random bytes in the image: gzip cannot shrink them, so the image is that large."""
    os.makedirs(os.path.join(rootfs, 'data'), exist_ok=True)
    with open(os.path.join(rootfs, 'data', 'blob'), 'wb') as f:
        for _megabyte in range(megabytes):
            f.write(os.urandom(1024 * 1024))


def group_vars(scratch, connection, big=()):
    """As molecule/registry's; ``big``: (name, version, MB) of large images to publish as well."""
    execute = {'exec': ['/bin/hello'], 'user': '0', 'group': '0'}
    images = []
    for name, version in IMAGES + [(name, version) for name, version, _mb in big]:
        rootfs = os.path.join(scratch, 'rootfs', '%s-%s' % (name.replace('/', '-'), version))
        os.makedirs(os.path.join(rootfs, 'bin'), exist_ok=True)
        hello = os.path.join(rootfs, 'bin', 'hello')
        # Written once: a new mtime would be a new image, rebuilt and sent again.
        if not os.path.exists(hello):
            with open(hello, 'w') as f:
                f.write('#!/bin/sh\necho hello from %s %s\n' % (name, version))
            os.chmod(hello, 0o755)
        for big_name, big_version, megabytes in big:
            if (big_name, big_version) == (name, version) and not os.path.exists(os.path.join(rootfs, 'data')):
                big_rootfs(rootfs, megabytes)
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


def write_group_vars(path, scratch, connection, big=()):
    with open(os.path.join(path, 'group_vars', 'all.yml'), 'w') as f:
        json.dump(group_vars(scratch, connection, big), f, indent=1)


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
    write_group_vars(path, scratch, connection)
    return path


def enable_ssh(scratch, names):
    """openssh-server in each container, our key authorized for root; the containers' addresses."""
    key = os.path.join(scratch, 'ssh', 'id_ed25519')
    os.makedirs(os.path.dirname(key), mode=0o700)
    run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'aci-bench', '-f', key)
    apt = ('export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && '
           'apt-get install -y -qq --no-install-recommends openssh-server >/dev/null 2>&1 && '
           # The package's postinst may leave no host keys in the test image; sshd then will not start.
           'ssh-keygen -A && systemctl enable --now -q ssh && install -d -m 0700 /root/.ssh')
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
    sizes = sorted(results)
    small, large = sizes[0], sizes[-1]
    walls = {size: [r['wall'] for r in results[size]] for size in sizes}
    medians = {size: statistics.median(walls[size]) for size in sizes}
    cpus = {size: statistics.median(r['cpu'] for r in results[size]) for size in sizes}
    all_runs = [r for size in sizes for r in results[size]]
    print('\nsite.yml idempotent rerun (every run changed=0): %d run(s) per size, cycling through %s hosts, '
          'connection %s' % (runs, ', '.join(str(size) for size in sizes),
                             'ssh with pipelining' if connection == 'ssh' else 'containers.podman.podman'))
    print('Machine: %d cores; 1-min load %.2f-%.2f during the reruns; other processes used %.2f cores on average; '
          '%s forks' % (os.cpu_count() or 0, min(r['load'] for r in all_runs), max(r['load'] for r in all_runs),
                        statistics.mean(r['others_cores'] for r in all_runs), ENV.get('ANSIBLE_FORKS', 5)))
    print('First converge of all hosts: %.0f s\n' % first)
    print('  %-16s %10s %22s %18s %8s %14s %7s' % (
        'registry hosts', 'median s', 'runs s', 'controller CPU s', 'vs %d' % small, 'podman calls', 'tasks'))
    for size in sizes:
        print('  %-16d %10.1f %22s %18.1f %7.2fx %14d %7d' % (
            size, medians[size], ' '.join('%.1f' % w for w in walls[size]), cpus[size],
            medians[size] / medians[small], results[size][0]['podman_calls'], len(results[size][0]['tasks'])))
    ratio = medians[large] / medians[small]
    print('  %d hosts / %d: %.2fx wall (goal < %.1fx: %s), %.2fx controller CPU' % (
        large, small, ratio, RERUN_GOAL, 'met' if ratio < RERUN_GOAL else 'MISSED', cpus[large] / cpus[small]))
    profile1 = {key: seconds for key, seconds, _task in task_profile(results[small])}
    profile3 = task_profile(results[large])
    roles = {}
    for key, seconds, task in profile3:
        entry = roles.setdefault(role_of(key[1]), [0.0, 0.0, 0])
        entry[0] += profile1.get(key, 0.0)
        entry[1] += seconds
        entry[2] += 1
    print('\nWhere the time goes, by role (median per task, summed):')
    print('  %-28s %6s %9s %9s %7s' % ('role', 'tasks', '%d host(s) s' % small, '%d hosts s' % large,
                                       '%d/%d' % (large, small)))
    for role, (s1, s3, count) in sorted(roles.items(), key=lambda kv: -kv[1][1]):
        print('  %-28s %6d %9.1f %9.1f %6.2fx' % (role, count, s1, s3, s3 / s1 if s1 else float('nan')))
    print('\nThe %d slowest tasks with %d hosts (median s; items = loop items over all hosts):' % (top, large))
    print('  %-72s %8s %8s %6s' % ('task', '%d host(s)' % small, '%d hosts' % large, 'items'))
    for key, seconds, task in sorted(profile3, key=lambda row: -row[1])[:top]:
        print('  %-72s %8.2f %8.2f %6d' % (key[1][:72], profile1.get(key, 0.0), seconds, task['items']))


def bridge_sent(network):
    """Bytes the controller has sent into ``network`` (its bridge's transmit counter): container-to-container
    traffic is switched inside the bridge and never counts here."""
    interface = run('podman', 'network', 'inspect', network, '--format', '{{.NetworkInterface}}').stdout.strip()
    with open('/sys/class/net/%s/statistics/tx_bytes' % interface) as f:
        return int(f.read())


def received(names):
    return {name: int(run('podman', 'exec', name, 'cat', '/sys/class/net/eth0/statistics/rx_bytes').stdout)
            for name in names}


def new_image_bytes(scratch, inventories, sizes, connection, megabytes):
    """Publish a new image to the largest size, then another to one registry: what the controller sent for each."""
    large = max(sizes)
    big = []
    figures = {}
    # The largest size first: the single registry's run then finds the first big image already in place.
    for size, version in ((large, 'big-1'), (1, 'big-2')):
        big.append(('big', version, megabytes))
        for inventory in inventories.values():
            write_group_vars(inventory, scratch, connection, big)
        names = registry_names(size)
        before, got = bridge_sent(NETWORK), received(names)
        result = site(scratch, inventories[size], 'new-image-%d' % size)
        sent = bridge_sent(NETWORK) - before
        got = {name: count - got[name] for name, count in received(names).items()}
        figures[size] = dict(sent=sent, wall=result['wall'], received=got)
        log('new %d MB image to %d registr%s: controller sent %.1f MB in %.0f s' % (
            megabytes, size, 'y' if size == 1 else 'ies', sent / 1e6, result['wall']))
    return figures


def report_bytes(figures, megabytes):
    large = max(figures)
    print('\nA new %d MB image (random bytes, so as large compressed), one site.yml run each:' % megabytes)
    print('  %-16s %18s %10s %34s' % ('registry hosts', 'controller sent MB', 'wall s', 'each registry received MB'))
    for size in sorted(figures):
        got = figures[size]['received']
        each = ' '.join('%.0f' % (got[name] / 1e6) for name in sorted(got))
        print('  %-16d %18.1f %10.0f %34s' % (size, figures[size]['sent'] / 1e6, figures[size]['wall'], each))
    ratio = figures[large]['sent'] / figures[1]['sent']
    print('  %d registries / 1: %.2fx the bytes (goal within %.1fx: %s)' % (
        large, ratio, BYTES_GOAL, 'met' if ratio <= BYTES_GOAL else 'MISSED'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--runs', type=int, default=3, help='reruns per size; the median counts (3)')
    parser.add_argument('--sizes', default='1,3', help='registry counts to compare, comma-separated (1,3)')
    parser.add_argument('--new-image-mb', type=int, default=0, metavar='MB',
                        help='then publish a new image of MB megabytes to the largest size and to 1 registry, '
                             'and compare the bytes the controller sent (0: skip)')
    parser.add_argument('--client', action='store_true', help='add one aci_clients host to every inventory')
    parser.add_argument('--forks', type=int, default=0,
                        help='ansible forks (0: one per host, at least ansible\'s default 5, as a fleet sets it)')
    parser.add_argument('--top', type=int, default=12, help='how many of the slowest tasks to list (12)')
    parser.add_argument('--image', default=IMAGE, help='the test-host image (%s)' % IMAGE)
    parser.add_argument('--connection', choices=('ssh', 'podman'), default='ssh',
                        help='how ansible reaches the hosts: ssh with pipelining, as a fleet (default), '
                             'or the test harness\'s podman connection')
    parser.add_argument('--keep', action='store_true', help='leave the containers running')
    args = parser.parse_args()
    try:
        sizes = sorted({int(size) for size in args.sizes.split(',')})
    except ValueError:
        parser.error('--sizes takes registry counts such as 1,3,10, not %r' % args.sizes)
    if len(sizes) < 2 or sizes[0] < 1:
        parser.error('--sizes needs at least two counts of 1 or more, such as 1,3')
    if args.new_image_mb and sizes[0] != 1:
        parser.error('--new-image-mb compares with one registry: include 1 in --sizes')

    preflight(args.image)
    registries = registry_names(sizes[-1])
    names = registries + ([CLIENT] if args.client else [])
    # With ansible's default of 5 forks, 10 hosts would run each task in two rounds.
    ENV['ANSIBLE_FORKS'] = str(args.forks or max(5, len(names)))
    scratch = tempfile.mkdtemp(prefix='aci-bench-site.')
    started = time.monotonic()
    try:
        log('starting %s' % ', '.join(names))
        start_containers(args.image, names)
        podman_counter(scratch)
        addresses = enable_ssh(scratch, names) if args.connection == 'ssh' else {}
        inventories = {size: write_inventory(scratch, registries[:size], args.client, addresses, args.connection)
                       for size in sizes}
        log('converging all hosts once')
        first = site(scratch, inventories[sizes[-1]], 'converge')
        results = {size: [] for size in sizes}
        for number in range(1, args.runs + 1):
            for size in sizes:
                result = site(scratch, inventories[size], 'rerun-%d-%d' % (size, number))
                changed = {host: r['changed'] for host, r in result['recap'].items() if r['changed']}
                if changed:
                    raise SystemExit('rerun %d with %d host(s) was not idempotent: changed %s (see %s)'
                                     % (number, size, changed, result['log']))
                results[size].append(result)
                log('rerun %d, %d host(s): %.1f s wall, %.1f s controller CPU, load %.2f, others %.2f cores'
                    % (number, size, result['wall'], result['cpu'], result['load'], result['others_cores']))
        report(results, args.runs, first['wall'], args.top, args.connection)
        if args.new_image_mb:
            report_bytes(new_image_bytes(scratch, inventories, sizes, args.connection, args.new_image_mb),
                         args.new_image_mb)
        print('\nTotal time %.0f s.' % (time.monotonic() - started))
    finally:
        clean_up(names, NETWORK, scratch, args.keep)


if __name__ == '__main__':
    main()
