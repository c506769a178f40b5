"""The registry server in container mode: what the container really runs with.

`systemd-analyze security` cannot rate this unit (its sandbox is the container's, not systemd's),
so these tests read the engine's own record of the container (`docker inspect` or `podman
inspect`) and, independently of it, the kernel's view of nginx's master (/proc/<pid>/status and
mountinfo): capabilities, no new privileges, a read-only root with only the log, cache and run
directories writable, the host's network; then that it serves HTTPS, reloads without a new master,
and that systemd brings it back after a kill -9.

A module of test functions on testinfra's ``host`` fixture, for any scenario whose hosts run the
server role with ``server_runtime: container`` (the role's defaults for service name, web root
and TLS paths), e.g. with ``pytest --hosts podman://NAME molecule/shared/test_server_container.py``.
The kill test runs last: it restarts the service.
"""

import json
import re
import time

SERVICE = 'aci-registry'
WORKER_USER = 'aci-registry'
# What nginx's master needs and the role grants: bind 443, chown its temporary directories to the
# worker user, switch workers to it.
CAPABILITIES = {'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_CHOWN'}
READ_ONLY = ['/srv/aci-registry', '/etc/aci-registry', '/etc/aci-registry/tls', '/etc/passwd', '/etc/group']
WRITABLE = {'/var/log/%s' % SERVICE, '/run/%s' % SERVICE, '/var/cache/%s' % SERVICE}
# Mounts every container has, which the engine makes writable: the kernel's interfaces, and its
# own per-container copies of the name files (not the host's: writing them changes nothing outside).
ENGINE_MOUNTS = ('/dev', '/proc', '/sys', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run/.containerenv')
# Bounded wait for the service to come back after a crash (RestartSec=2, and a container start).
RESTART_WAIT = 30

# Linux capability numbers (linux/capability.h), enough to name what a CapEff mask holds.
CAP_NAMES = [
    'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
    'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
    'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
    'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
    'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
    'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
    'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]


def capabilities(mask):
    """The capability names a hex mask from /proc/<pid>/status holds."""
    value = int(mask, 16)
    return {CAP_NAMES[number] if number < len(CAP_NAMES) else 'CAP_%d' % number
            for number in range(64) if value >> number & 1}


def status(host, pid):
    """``{field: value}`` of /proc/<pid>/status."""
    return dict(line.split(':\t', 1) for line in host.check_output('cat /proc/%s/status' % pid).splitlines()
                if ':\t' in line)


def engine(host):
    """``docker`` or ``podman``: the CLI the unit runs."""
    exec_start = host.check_output('systemctl show -p ExecStart --value %s.service' % SERVICE)
    found = re.search(r'/usr/bin/(docker|podman) run', exec_start)
    assert found, 'the unit does not run a container: %s' % exec_start[:200]
    return found.group(1)


def inspect(host):
    """The engine's record of the service's container."""
    return json.loads(host.check_output('%s inspect %s' % (engine(host), SERVICE)))[0]


def master_pid(host):
    """Host PID of nginx's master: the container's first process."""
    pid = inspect(host)['State']['Pid']
    assert pid, 'the container %s has no running process' % SERVICE
    return pid


def worker_pids(host, pid):
    return host.check_output('cat /proc/%s/task/*/children' % pid).split()


def https(host, path='/', options=''):
    """``(status code, headers)`` of a request to the server on the host itself. Certificate
    checks are the native scenario's business; here it matters that the container answers."""
    cmd = host.run("curl -sS --insecure --max-time 5 -D - -o /dev/null %s 'https://localhost%s'" % (options, path))
    assert cmd.rc == 0, cmd.stderr
    code = re.match(r'HTTP/\S+ (\d+)', cmd.stdout)
    return code.group(1) if code else None, cmd.stdout


def wait_until(check, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except (AssertionError, ValueError, KeyError, IndexError, RuntimeError):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def test_unit_runs_the_container_in_the_foreground(host):
    service = host.service(SERVICE)
    assert service.is_running and service.is_enabled
    main = host.check_output('systemctl show -p MainPID --value %s.service' % SERVICE)
    assert host.check_output('cat /proc/%s/comm' % main) == engine(host), 'the main process is not the engine CLI'
    state = inspect(host)['State']
    assert state['Running'] and inspect(host)['Name'].lstrip('/') == SERVICE
    assert host.check_output('cat /proc/%s/comm' % master_pid(host)) == 'nginx'


def test_engine_grants_only_the_masters_capabilities(host):
    record = inspect(host)
    if engine(host) == 'podman':
        # podman records CapAdd and CapDrop against its default set (the four are defaults, so
        # CapAdd is empty and CapDrop names the rest), and the result in EffectiveCaps and
        # BoundingCaps.
        assert set(record['EffectiveCaps']) == CAPABILITIES
        assert set(record['BoundingCaps']) == CAPABILITIES
        return
    config = record['HostConfig']
    added = {c if c.startswith('CAP_') else 'CAP_' + c for c in config.get('CapAdd') or []}
    assert added == CAPABILITIES
    assert [c.upper() for c in config.get('CapDrop') or []] in (['ALL'], ['CAP_ALL'])


def test_master_has_exactly_those_capabilities(host):
    fields = status(host, master_pid(host))
    assert capabilities(fields['CapEff']) == CAPABILITIES
    assert capabilities(fields['CapPrm']) == CAPABILITIES
    # The bounding set too: nothing in the container can ever get more.
    assert capabilities(fields['CapBnd']) == CAPABILITIES
    assert capabilities(fields['CapAmb']) == set()


def test_workers_run_unprivileged(host):
    uid = host.check_output('id -u %s' % WORKER_USER)
    workers = worker_pids(host, master_pid(host))
    assert workers, 'nginx has no worker processes'
    for pid in workers:
        fields = status(host, pid)
        assert fields['Uid'].split()[:2] == [uid, uid], 'worker %s does not run as %s' % (pid, WORKER_USER)
        assert capabilities(fields['CapEff']) == set()


def test_no_new_privileges(host):
    options = inspect(host)['HostConfig'].get('SecurityOpt') or []
    assert any(re.match(r'no-new-privileges(:true|=true)?$', o) for o in options), options
    assert status(host, master_pid(host))['NoNewPrivs'].strip() == '1'


def test_root_file_system_is_read_only(host):
    assert inspect(host)['HostConfig']['ReadonlyRootfs'] is True
    root = host.check_output("awk '$5 == \"/\" {print $6}' /proc/%s/mountinfo" % master_pid(host))
    assert 'ro' in root.split(',')


def test_engine_mounts_web_root_configuration_and_tls_read_only(host):
    mounts = {m['Destination']: m for m in inspect(host)['Mounts']}
    for path in READ_ONLY:
        assert path in mounts, '%s is not mounted (mounts: %s)' % (path, ', '.join(sorted(mounts)))
        assert mounts[path]['RW'] is False, '%s is mounted writable' % path
    writable = {path for path, m in mounts.items() if m['RW']}
    assert writable <= WRITABLE, 'writable mounts beyond log, cache and run: %s' % sorted(writable - WRITABLE)


def test_only_log_cache_and_run_are_writable_for_nginx(host):
    """Every mount nginx sees, from the kernel: read-only but the service's own three directories
    (and the kernel's interfaces the engine mounts in every container)."""
    writable = set()
    for line in host.check_output('cat /proc/%s/mountinfo' % master_pid(host)).splitlines():
        fields = line.split()
        mount_point, options = fields[4], fields[5].split(',')
        if 'rw' in options and not mount_point.startswith(ENGINE_MOUNTS):
            writable.add(mount_point)
    assert writable == WRITABLE, 'writable for nginx: %s' % ', '.join(sorted(writable))


def test_network_is_the_hosts(host):
    assert inspect(host)['HostConfig']['NetworkMode'] == 'host'
    assert (host.check_output('readlink /proc/%s/ns/net' % master_pid(host))
            == host.check_output('readlink /proc/1/ns/net'))


def test_serves_https_with_the_roles_configuration(host):
    code, headers = https(host)
    assert code == '200', headers
    # Headers only the role's nginx.conf sends.
    assert re.search(r'(?im)^x-content-type-options: nosniff\r?$', headers)
    assert not re.search(r'(?im)^server: nginx/', headers), 'server_tokens is not off'
    code, headers = https(host, '/?ac-discovery=1')
    assert code == '200', headers
    assert https(host, '/.discovery/')[0] == '404'


def test_only_tls_1_2_and_1_3(host):
    assert host.run('curl -sS --insecure --max-time 5 -o /dev/null --tlsv1.1 --tls-max 1.1 https://localhost/').rc != 0
    assert host.run('curl -sS --insecure --max-time 5 -o /dev/null --tlsv1.2 --tls-max 1.2 https://localhost/').rc == 0


def test_errors_go_to_the_journal(host):
    match = '-u %s.service' % SERVICE
    if engine(host) == 'podman':
        # podman's systemd cgroup manager puts the container in a scope of its own, and journald
        # files nginx's lines under that scope, not under the unit (--cgroups=split would keep it
        # in the unit, but podman 4.3 cannot split on the cgroup v1 hosts the tests run on).
        match = '_SYSTEMD_UNIT=libpod-%s.scope' % inspect(host)['Id']
    log = host.check_output('journalctl %s --no-pager -o cat -n 200' % match)
    assert re.search(r'\[notice\] \d+#\d+: (start worker process|using the)', log), log[-500:]


def test_reload_keeps_the_master_and_starts_new_workers(host):
    master, workers = master_pid(host), set(worker_pids(host, master_pid(host)))
    host.run_expect([0], 'systemctl reload %s.service' % SERVICE)
    assert wait_until(lambda: set(worker_pids(host, master)) - workers, 10), 'no new workers after the reload'
    assert master_pid(host) == master
    assert https(host)[0] == '200'


def test_systemd_restarts_a_killed_nginx(host):
    """kill -9 of nginx's master ends the container; the CLI exits non-zero and Restart=on-failure
    starts a new one."""
    before = master_pid(host)
    host.run_expect([0], 'kill -9 %s' % before)

    def back():
        pid = master_pid(host)
        return pid != before and host.service(SERVICE).is_running and https(host)[0] == '200'

    assert wait_until(back, RESTART_WAIT), 'the service did not come back within %d s' % RESTART_WAIT
    restarts = host.check_output('systemctl show -p NRestarts --value %s.service' % SERVICE)
    assert int(restarts) >= 1
