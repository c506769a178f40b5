# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One bounded wrk measurement, run inside the benchmark container by bench/server.py.

    python3 server_wrk.py --pid MAINPID --url URL --threads T --connections C --duration S

Besides wrk's own counts it reads the CPU time the server spent (its main process and direct
children, e.g. nginx's workers) and the CPU time of wrk itself. On a shared machine wall-clock
rates move with whatever else runs; CPU time per request moves much less, so it is reported too.
Prints one JSON object.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

# wrk's done() hook: the summary as JSON on the last line, no text parsing of wrk's table.
REPORT_LUA = r'''
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "bytes": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
    .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "latency_p50_us": %d, "latency_p99_us": %d}\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
'''

TICK = os.sysconf('SC_CLK_TCK')


def _stat(pid):
    with open('/proc/%d/stat' % pid) as f:
        # The command name may contain spaces: fields are counted after its closing parenthesis.
        return f.read().rsplit(')', 1)[1].split()


def server_pids(main_pid):
    pids = [main_pid]
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                if int(_stat(int(name))[1]) == main_pid:
                    pids.append(int(name))
            except (OSError, IndexError):
                continue
    return pids


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
        except OSError:
            continue  # a worker that went away between listing and reading
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICK


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--pid', type=int, required=True)
    parser.add_argument('--url', required=True)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--connections', type=int, default=16)
    parser.add_argument('--duration', type=int, default=10)
    parser.add_argument('--timeout', type=int, default=60)
    args = parser.parse_args()

    with tempfile.NamedTemporaryFile('w', suffix='.lua') as script:
        script.write(REPORT_LUA)
        script.flush()
        pids = server_pids(args.pid)
        before = cpu_seconds(pids)
        wrk = subprocess.Popen(
            ['wrk', '-t%d' % args.threads, '-c%d' % args.connections, '-d%ds' % args.duration,
             '--timeout', '%ds' % args.timeout, '-s', script.name, args.url],
            stdout=subprocess.PIPE, universal_newlines=True)
        out = wrk.stdout.read()
        _pid, status, usage = os.wait4(wrk.pid, 0)
        after = cpu_seconds(pids)
    if status != 0:
        sys.stderr.write(out)
        sys.exit('wrk failed with status %d' % status)
    result = json.loads(out.strip().splitlines()[-1])
    result['server_cpu_s'] = after - before
    result['client_cpu_s'] = usage.ru_utime + usage.ru_stime
    print(json.dumps(result))


if __name__ == '__main__':
    main()
