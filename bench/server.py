# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the aci.registry.server role's nginx against a bare nginx and a walkthrough's Python server.

One systemd container from the project's test image gets the server role exactly as a user runs
it (bench/server_setup.yml: aci-registry.service, /etc/aci-registry/nginx.conf, its sandbox) and
a web root laid out by aci_webroot with a small image and a large one. In the same container, on
other ports, the same files with the same certificate are served by

  - a bare nginx: the smallest nginx.conf that serves the directory over TLS, nginx's defaults;
  - Python's single-threaded http.server with its socket wrapped in an ssl context, as a
    hand-made walkthrough does (bench/server_walkthrough.py).

wrk, inside the container against 127.0.0.1, measures for each: requests/s for the discovery page
and MB/s for the large image, in rounds that alternate between the servers, each a fixed
duration; the best round counts (other load on the machine only ever slows a run down). The
servers' CPU time is measured too: CPU time per request is much less sensitive to other load than
wall-clock rates. The container and its network are removed at the end. See bench/README.md.

    .venv/bin/python bench/server.py                      # 3 rounds of 10 s, a 200 MB image
    .venv/bin/python bench/server.py --rounds 5 --duration 5
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

from benchlib import BENCH, IMAGE, host_busy, loadavg, log, preflight, remove_containers, run, wait_booted

NAME = 'aci-bench-server'        # container, network and DNS name: ours to create and remove
WEBROOT = '/srv/aci-registry'
CERT = '/etc/aci-registry/tls/server.crt'
KEY = '/etc/aci-registry/tls/server.key'
INSIDE = '/var/tmp/aci-bench'    # helper files in the container, on disk like the role's log
MB = 1000 * 1000

# The bare nginx: only what serving this directory over TLS needs, everything else nginx's
# defaults (no TLS tuning, no session cache, no headers, access log on as nginx has it). One
# exception: worker_processes auto, as Debian's stock nginx.conf has; with the compiled-in
# default of 1 worker the comparison would measure the worker count, not the role's configuration.
BARE_CONF = '''\
worker_processes auto;
pid {inside}/bare.pid;
error_log {inside}/bare-error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    access_log {inside}/bare-access.log;
    server {{
        listen {port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {webroot};
    }}
}}
'''

# name, systemd unit, port, path of the discovery page, the role's configuration it runs. The role
# answers appc's query itself; the other two have no rewrite (a bare nginx answers
# /app?ac-discovery=1 with a redirect to a directory it will not list, http.server with the
# listing), so they are asked for the same page by its file path. The bodies are compared before
# anything is measured. The role runs twice, in the same unit and sandbox: with the settings it
# had before the TLS tuning (BEFORE_VARS) and with its defaults; its nginx.conf is swapped and the
# unit restarted before each of its measurements.
SERVERS = (
    ('role nginx, before (old settings)', 'aci-registry.service', 443, '/app?ac-discovery=1', 'before'),
    ('role nginx (aci-registry.service)', 'aci-registry.service', 443, '/app?ac-discovery=1', 'after'),
    ('bare nginx', 'aci-bench-bare.service', 8443, '/.discovery/app.html', None),
    ('python http.server + ssl', 'aci-bench-python.service', 9443, '/.discovery/app.html', None),
)
BEFORE, ROLE, BARE, PYTHON = (s[0] for s in SERVERS)
# The role's variables as they were before its TLS tuning: OpenSSL's TLS 1.3 order (AES-256-GCM
# first, the client's choice), no kernel TLS.
BEFORE_VARS = {'server_tls13_ciphersuites': [], 'server_tls_kernel': False}
ROLE_CONF = '/etc/aci-registry/nginx.conf'
# Where the unit's sandbox lets nginx read them (PrivateTmp hides the container's /var/tmp).
SAVED_CONF = '/etc/aci-registry/bench-%s.conf'

BIG_PATH = '/big/v1-linux-amd64.aci'


def inside(command, check=True):
    """A shell command in the benchmark container; its stdout."""
    return run('podman', 'exec', NAME, 'sh', '-c', command, check=check).stdout.strip()


# ---------------------------------------------------------------------------------------------
# Set-up and tear-down


def remove_container():
    remove_containers([NAME], NAME)


def start_container(image):
    remove_container()  # a leftover of an interrupted run
    run('podman', 'network', 'create', NAME)
    # Privileged like molecule/server, so the unit's sandbox (seccomp filters, namespaces) really
    # applies and is part of what is measured.
    run('podman', 'run', '-d', '--name', NAME, '--hostname', NAME, '--network', NAME,
        '--systemd=always', '--privileged', image, '/sbin/init')
    wait_booted(NAME)


def install_wrk(scratch):
    """wrk from Debian, in the container: through the container's NAT to the mirror, else via the host's apt."""
    if run('podman', 'exec', NAME, 'sh', '-c', 'command -v wrk', check=False).returncode == 0:
        return
    apt = ('export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && '
           'apt-get install -y -qq --no-install-recommends wrk >/dev/null')
    if run('podman', 'exec', NAME, 'sh', '-c', apt, check=False).returncode == 0:
        return
    log('the container cannot reach the mirror: fetching wrk with the host\'s apt')
    debs = os.path.join(scratch, 'debs')
    os.makedirs(debs)
    run('apt-get', 'download', 'wrk', 'libluajit-5.1-2', 'libluajit-5.1-common', cwd=debs)
    for deb in sorted(os.listdir(debs)):
        run('podman', 'cp', os.path.join(debs, deb), '%s:/tmp/%s' % (NAME, deb))
    inside('dpkg -i /tmp/*.deb >/dev/null && rm -f /tmp/*.deb')


def converge(scratch, big_mb, extra_vars=None):
    inventory = os.path.join(scratch, 'inventory.yml')
    with open(inventory, 'w') as f:
        f.write('aci_registries:\n  hosts:\n    %s:\n'
                '      ansible_connection: containers.podman.podman\n'
                '      ansible_python_interpreter: /usr/bin/python3\n' % NAME)
    logfile = os.path.join(scratch, 'converge.log')
    with open(logfile, 'w') as out:
        result = run('ansible-playbook', '-i', inventory, os.path.join(BENCH, 'server_setup.yml'),
                     '-e', 'bench_dir=%s' % scratch, '-e', 'bench_domain=%s' % NAME, '-e', 'bench_big_mb=%d' % big_mb,
                     '-e', json.dumps(extra_vars or {}),
                     check=False, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        with open(logfile) as f:
            raise SystemExit('converging the server role failed:\n' + ''.join(f.readlines()[-40:]))


def try_directives(scratch, directives):
    """Add directives to the http block of the role's nginx.conf and reload: a proposed change, measured before it is made."""
    conf = os.path.join(scratch, 'role-nginx.conf')
    text = inside('cat /etc/aci-registry/nginx.conf')
    if '\nhttp {\n' not in text:
        raise SystemExit('no http block found in /etc/aci-registry/nginx.conf')
    with open(conf, 'w') as f:
        f.write(text.replace('\nhttp {\n', '\nhttp {\n    %s\n' % directives, 1) + '\n')
    run('podman', 'cp', conf, '%s:%s' % (NAME, ROLE_CONF))
    inside('systemctl reload aci-registry.service && sleep 1')


def save_role_conf(which):
    inside('cp %s %s' % (ROLE_CONF, SAVED_CONF % which))


_role_conf = ['after']


def use_role_conf(which):
    """Put the role's saved configuration in place and restart its unit (a restart: a reload's old workers would still be counted)."""
    if which and which != _role_conf[0]:
        inside('cp %s %s && systemctl restart aci-registry.service && sleep 1' % (SAVED_CONF % which, ROLE_CONF))
        _role_conf[0] = which


def kernel_tls():
    """Whether the kernel has TLS: /proc/net/tls_stat exists once the tls module is loaded (the container shares the host's kernel)."""
    return run('podman', 'exec', NAME, 'test', '-e', '/proc/net/tls_stat', check=False).returncode == 0


def start_other_servers(scratch):
    conf = os.path.join(scratch, 'bare.conf')
    with open(conf, 'w') as f:
        f.write(BARE_CONF.format(inside=INSIDE, port=SERVERS[2][2], cert=CERT, key=KEY, webroot=WEBROOT))
    inside('mkdir -p %s' % INSIDE)
    for src in (conf, os.path.join(BENCH, 'server_walkthrough.py'), os.path.join(BENCH, 'server_wrk.py')):
        run('podman', 'cp', src, '%s:%s/' % (NAME, INSIDE))
    # Transient units: no sandbox, easy to stop, and MainPID tells whose CPU time to count.
    inside('systemd-run --quiet --unit aci-bench-bare /usr/sbin/nginx -g "daemon off;" -c %s/bare.conf' % INSIDE)
    # The walkthrough logs every request to stderr; a file, as a terminal would be slower still.
    inside('systemd-run --quiet --unit aci-bench-python -p StandardError=append:{d}/python.log '
           '/usr/bin/python3 {d}/server_walkthrough.py {w} {p} {c} {k}'.format(
               d=INSIDE, w=WEBROOT, p=SERVERS[3][2], c=CERT, k=KEY))
    for _name, _unit, port, path, _conf in SERVERS:
        for _attempt in range(50):
            if inside('curl -sk -o /dev/null -w "%%{http_code}" "https://127.0.0.1:%d%s"' % (port, path),
                      check=False) == '200':
                break
            time.sleep(0.2)
        else:
            raise SystemExit('nothing answers on port %d' % port)


def check_same_content():
    """Every server must send the same discovery page and the same large file, or ratios mean nothing."""
    pages, sizes = set(), set()
    for _name, _unit, port, path, conf in SERVERS:
        use_role_conf(conf)
        pages.add(inside('curl -sfk "https://127.0.0.1:%d%s" | sha256sum' % (port, path)))
        sizes.add(inside('curl -sfk -o /dev/null -w "%%{size_download}" "https://127.0.0.1:%d%s"' % (port, BIG_PATH)))
    if len(pages) != 1 or len(sizes) != 1:
        raise SystemExit('the servers do not send the same content: %s %s' % (pages, sizes))
    page_size = int(inside('stat -c %%s %s/.discovery/app.html' % WEBROOT))
    return page_size, int(sizes.pop())


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(unit, url, threads, connections, duration):
    pid = inside('systemctl show -p MainPID --value %s' % unit)
    busy0, start, load0 = host_busy(), time.monotonic(), loadavg()
    out = inside('python3 %s/server_wrk.py --pid %s --url "%s" --threads %d --connections %d --duration %d'
                 % (INSIDE, pid, url, threads, connections, duration))
    busy1, wall = host_busy(), time.monotonic() - start
    result = json.loads(out.splitlines()[-1])
    seconds = result['duration_us'] / 1e6
    result['rate'] = result['requests'] / seconds
    result['mbps'] = result['bytes'] / MB / seconds
    # CPU the rest of the machine used meanwhile, in cores: everything busy but our server and
    # wrk (podman exec's own start-up counts as others: a little, and the same for every server).
    others = (busy1 - busy0) - result['server_cpu_s'] - result['client_cpu_s']
    result['others_cores'] = max(others, 0.0) / wall
    result['load'] = max(load0, loadavg())
    result['errors'] = sum(result[k] for k in ('connect_errors', 'read_errors', 'write_errors', 'status_errors', 'timeouts'))
    return result


def fmt(value, digits=0):
    return '{:,.{}f}'.format(value, digits)


def report(title, rows, key, unit, per_cpu_unit, goals):
    """One table: best round per server, spread, CPU efficiency, then the ratios.

    goals: (role / bare nginx, role / python, role / role before) on the wall-clock rate (None: no
    goal), and the role's after / before goal per server CPU-second (None: none).
    """
    print('\n' + title)
    print('  %-36s %12s %19s %16s %8s %7s' % ('server', unit, 'rounds (min-max)', per_cpu_unit, 'p99 ms', 'errors'))
    best = {}
    for name, results in rows:
        values = [r[key] for r in results]
        top = max(results, key=lambda r: r[key])
        # Efficiency over all rounds together: work done per second of the server's CPU.
        work = sum(r['requests'] if key == 'rate' else r['bytes'] / MB for r in results)
        cpu = sum(r['server_cpu_s'] for r in results)
        best[name] = (top[key], work / cpu if cpu else float('nan'))
        print('  %-36s %12s %19s %16s %8s %7d' % (
            name, fmt(top[key], 0 if key == 'rate' else 1),
            '%s-%s' % (fmt(min(values), 0), fmt(max(values), 0)),
            fmt(best[name][1], 0 if key == 'rate' else 1),
            fmt(top['latency_p99_us'] / 1000, 1), sum(r['errors'] for r in results)))
    role, bare, python, before = best[ROLE], best[BARE], best[PYTHON], best[BEFORE]
    for label, (a, b), goal in (('role / bare nginx', (role, bare), goals[0]),
                                ('role before / bare nginx', (before, bare), None),
                                ('role / python http.server', (role, python), goals[1]),
                                ('role / role before', (role, before), None)):
        verdict = ''
        if b is before and goals[2]:
            verdict = '  goal >= %sx per server CPU-second: %s' % (goals[2], 'met' if a[1] / b[1] >= goals[2] else 'MISSED')
        if goal:
            # Judged on both: the wall-clock rate is the goal as stated, the CPU-second ratio is the
            # one a busy shared machine cannot move much.
            # (Not for the Python server: it waits on every handshake round trip, so its CPU time
            # says little about how many requests it can answer.)
            verdict = '  goal >= %sx: %s (%s)' % (goal, 'met' if a[0] / b[0] >= goal else 'MISSED', unit)
            if b is bare:
                verdict += ', %s (CPU)' % ('met' if a[1] / b[1] >= goal else 'MISSED')
        print('  %-28s %7.2fx %s, %7.2fx per server CPU-second%s' % (label, a[0] / b[0], unit, a[1] / b[1], verdict))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--rounds', type=int, default=3, help='rounds over all servers; the best counts (3)')
    parser.add_argument('--duration', type=int, default=10, help='seconds per measurement (10)')
    parser.add_argument('--connections', type=int, default=16, help='wrk connections, discovery page (16)')
    parser.add_argument('--large-connections', type=int, default=2, help='wrk connections, large file (2)')
    parser.add_argument('--threads', type=int, default=2, help='wrk threads (2)')
    parser.add_argument('--big-mb', type=int, default=200, help='size of the large image in MB (200)')
    parser.add_argument('--image', default=IMAGE, help='the test-host image (%s)' % IMAGE)
    parser.add_argument('--try-directives', metavar='TEXT',
                        help='nginx directives added to the role\'s http block before measuring, to try a change')
    parser.add_argument('--only', choices=('page', 'big'), help='run only this test (discovery page or large image)')
    parser.add_argument('--keep', action='store_true', help='leave the container %s running' % NAME)
    args = parser.parse_args()

    preflight(args.image)
    scratch = tempfile.mkdtemp(prefix='aci-bench-server.')
    started = time.monotonic()
    try:
        log('starting container %s' % NAME)
        start_container(args.image)
        log('installing wrk in it')
        install_wrk(scratch)
        log('converging the server role with its old settings (bench/server_setup.yml)')
        converge(scratch, args.big_mb, BEFORE_VARS)
        save_role_conf('before')
        log('converging the server role with its defaults')
        converge(scratch, args.big_mb)
        if args.try_directives:
            log('adding to the role\'s nginx.conf: %s' % args.try_directives)
            try_directives(scratch, args.try_directives)
        save_role_conf('after')
        log('starting the bare nginx and the walkthrough server')
        start_other_servers(scratch)
        page_size, big_size = check_same_content()

        tests = tuple(test for test in (
            ('page', lambda path: path, 'rate', args.connections),
            ('big', lambda path: BIG_PATH, 'mbps', args.large_connections),
        ) if args.only in (None, test[0]))
        results = {(test[0], s[0]): [] for test in tests for s in SERVERS}
        # Warm-up: caches, JIT-less but first-touch paths, the large file in the page cache.
        for _test, path_of, _key, connections in tests:
            for name, unit, port, path, conf in SERVERS:
                use_role_conf(conf)
                measure(unit, 'https://127.0.0.1:%d%s' % (port, path_of(path)), args.threads, connections, 2)
        for round_ in range(1, args.rounds + 1):
            for test, path_of, key, connections in tests:
                for name, unit, port, path, conf in SERVERS:
                    use_role_conf(conf)
                    result = measure(unit, 'https://127.0.0.1:%d%s' % (port, path_of(path)),
                                     args.threads, connections, args.duration)
                    results[(test, name)].append(result)
                    log('round %d %-4s %-36s %10s %s  load %.2f, others %.2f cores' % (
                        round_, test, name, fmt(result[key], 0 if key == 'rate' else 1),
                        'req/s' if key == 'rate' else 'MB/s', result['load'], result['others_cores']))
        all_results = [r for rs in results.values() for r in rs]

        if args.try_directives:
            print('\nThe role\'s nginx.conf was changed before measuring: %s' % args.try_directives)
        print('\nServer benchmark: %d round(s) of %d s per server and test, wrk -t%d in the container on 127.0.0.1, '
              'TLS 1.3, ECDSA P-256 certificate' % (args.rounds, args.duration, args.threads))
        print('Machine: %d cores; 1-min load %.2f-%.2f during measurements; other processes used %.2f cores on average'
              % (os.cpu_count() or 0, min(r['load'] for r in all_results), max(r['load'] for r in all_results),
                 sum(r['others_cores'] for r in all_results) / len(all_results)))
        print('Kernel TLS: %s' % ('available (the tls module is loaded)' if kernel_tls() else
                                  'not available in this kernel: nginx uses userspace TLS (its fallback)'))
        print('Role before: %s; role: its defaults' % ', '.join('%s=%s' % kv for kv in BEFORE_VARS.items()))
        ran = [test[0] for test in tests]
        if 'page' in ran:
            report('Discovery page (%d bytes): role GET /app?ac-discovery=1, others GET /.discovery/app.html; '
                   'wrk -c%d, keep-alive where offered' % (page_size, args.connections),
                   [(s[0], results[('page', s[0])]) for s in SERVERS], 'rate', 'req/s', 'req/CPU-s', (0.9, 50, None))
        if 'big' in ran:
            # Issue 16: at least 1.5x the old settings' MB per server CPU-second, and no lower than bare nginx.
            report('Large image (%s MB %s): wrk -c%d' % (fmt(big_size / MB, 0), BIG_PATH, args.large_connections),
                   [(s[0], results[('big', s[0])]) for s in SERVERS], 'mbps', 'MB/s', 'MB/CPU-s', (1.0, None, 1.5))
        print('\nBest round per server (other load only slows a run down); CPU-second ratios use all rounds.')
        print('Total time %.0f s.' % (time.monotonic() - started))
    finally:
        if args.keep:
            log('container %s kept: podman rm -f %s; podman network rm %s' % (NAME, NAME, NAME))
        else:
            remove_container()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == '__main__':
    main()
