# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: aci.registry.aci_build against `actool build` and `tar | gzip -6` on the same tree.

Generates an image layout (manifest + rootfs/) of the requested size from files already on the
machine (many small files from /usr/share and /usr/lib, plus a few large libraries), then builds
it with each tool, one after the other, each in a child process whose wall time and peak RSS are
measured with wait4(2). The aci_build runs execute the module file itself (argument parsing, the
existing-image comparison, the atomic writer), as Ansible's module debugging does. See bench/README.md.

    .venv/bin/python bench/aci_build.py                 # a 300 MB tree
    .venv/bin/python bench/aci_build.py --sizes 300,1024 --repeat 2
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
COLLECTIONS = os.path.join(ROOT, '.build', 'collections')
ACTOOL = os.environ.get('ACTOOL', os.path.join(ROOT, '.build', 'bin', 'actool'))
MB = 1000 * 1000

SMALL_SOURCES = ('/usr/share/doc', '/usr/share/man', '/usr/share/locale', '/usr/share/perl', '/usr/share/vim',
                 '/usr/share/icons', '/usr/share/i18n', '/usr/share/gocode', '/usr/share/go-1.19',
                 '/usr/lib/python3', '/usr/lib/go-1.19', '/usr/share')
LARGE_SOURCES = ('/usr/lib/x86_64-linux-gnu', '/usr/lib', '/usr/bin', '/usr/libexec')
SMALL_LIMIT = 1024 * 1024
LARGE_MIN = 8 * 1024 * 1024
LARGE_SHARE = 0.35  # of the tree, in a few big files

MANIFEST = {
    'acKind': 'ImageManifest', 'acVersion': '0.8.11', 'name': 'bench.example.com/tree',
    'labels': [{'name': 'version', 'value': '1.0.0'}, {'name': 'os', 'value': 'linux'},
               {'name': 'arch', 'value': 'amd64'}],
    'app': {'exec': ['/bin/sh'], 'user': '0', 'group': '0'},
}


# ---------------------------------------------------------------------------------------------
# The tree


def _walk_files(top):
    for directory, dirs, names in os.walk(top):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(directory, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if os.path.islink(path) or (st.st_mode & 0o170000) == 0o100000:
                yield path, st.st_size


def _copy(path, rootfs):
    target = os.path.join(rootfs, path.lstrip('/'))
    if os.path.lexists(target):
        return 0
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        if os.path.islink(path):
            os.symlink(os.readlink(path), target)
            return 0
        shutil.copy2(path, target)
    except OSError:
        return 0
    return os.path.getsize(target)


def generate_tree(workdir, size_mb):
    """``workdir/tree-<size>/layout``, made once and reused; returns ``(layout, bytes, files)``."""
    tree = os.path.join(workdir, 'tree-%d' % size_mb)
    layout = os.path.join(tree, 'layout')
    done = os.path.join(tree, 'done.json')
    if os.path.exists(done):
        with open(done) as f:
            info = json.load(f)
        return layout, info['bytes'], info['files']
    shutil.rmtree(tree, ignore_errors=True)
    rootfs = os.path.join(layout, 'rootfs')
    os.makedirs(rootfs)
    target = size_mb * MB
    total = files = 0
    large_budget = target * LARGE_SHARE
    for source in LARGE_SOURCES:
        for path, size in _walk_files(source):
            if size >= LARGE_MIN and total + size <= large_budget:
                copied = _copy(path, rootfs)
                total += copied
                files += 1 if copied else 0
    for source in SMALL_SOURCES:
        for path, size in _walk_files(source):
            if total >= target:
                break
            if size < SMALL_LIMIT:
                total += _copy(path, rootfs)
                files += 1
    if total < target:
        sys.exit('only %.0f MB of files found on this machine for a %d MB tree' % (total / MB, size_mb))
    with open(os.path.join(layout, 'manifest'), 'w') as f:
        json.dump(MANIFEST, f)
    with open(done, 'w') as f:
        json.dump({'bytes': total, 'files': files}, f)
    return layout, total, files


def warm(layout):
    """Reads every file once, so that every tool finds the tree in the page cache."""
    for path, dummy in _walk_files(layout):
        if not os.path.islink(path):
            with open(path, 'rb') as f:
                while f.read(1 << 20):
                    pass


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(argv, env=None, stdout=subprocess.DEVNULL):
    """Runs ``argv``; returns ``(seconds, peak RSS in MB, stdout, CPU seconds)`` of it and its children."""
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=out if stdout is None else stdout)
        dummy, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit('%s failed with exit code %d' % (' '.join(argv), proc.returncode))
        out.seek(0)
        return elapsed, usage.ru_maxrss / 1024.0, out.read(), usage.ru_utime + usage.ru_stime


def best_of(repeat, run):
    """The fastest of ``repeat`` runs (the machine is shared: the minimum is the least disturbed)."""
    results = [run() for dummy in range(repeat)]
    return min(results, key=lambda r: r[0])


MODULE = os.path.join(ROOT, 'plugins', 'modules', 'aci_build.py')
# As on a host without python-isal: the import fails, the module falls back to zlib.
NO_ISAL = "import runpy, sys; sys.modules['isal'] = None; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"


def aci_build_run(workdir, layout, dest, no_isal=False):
    """Runs the module file itself, the way Ansible's module debugging does (arguments from a file)."""
    args_file = os.path.join(workdir, 'args.json')
    with open(args_file, 'w') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': {'src': layout, 'dest': dest}}, f)
    argv = [sys.executable] + (['-c', NO_ISAL] if no_isal else []) + [MODULE, args_file]
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    elapsed, rss, out, cpu = measure(argv, env=env, stdout=None)
    result = json.loads(out.decode().strip().splitlines()[-1])
    if result.get('failed'):
        raise SystemExit('aci_build failed: %s' % result.get('msg'))
    return elapsed, rss, result, cpu


def validate(path):
    proc = subprocess.run([ACTOOL, 'validate', path], capture_output=True, text=True, check=False)
    return 'valid' if proc.returncode == 0 and not proc.stderr.strip() else 'INVALID: %s' % proc.stderr.strip()


# ---------------------------------------------------------------------------------------------


def bench(workdir, size_mb, repeat, with_zlib):
    layout, tree_bytes, files = generate_tree(workdir, size_mb)
    warm(layout)
    out = os.path.join(workdir, 'out-%d' % size_mb)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    rows = []

    actool_aci = os.path.join(out, 'actool.aci')
    t, rss, dummy, cpu = best_of(repeat, lambda: measure([ACTOOL, 'build', '--overwrite', layout, actool_aci]))
    rows.append(('actool build', t, cpu, os.path.getsize(actool_aci), rss, validate(actool_aci)))

    tgz = os.path.join(out, 'tar-gzip.aci')
    pipeline = 'set -o pipefail; tar -C %s -cf - manifest rootfs | gzip -6 > %s' % (layout, tgz)
    t, rss, dummy, cpu = best_of(repeat, lambda: measure(['bash', '-c', pipeline]))
    rows.append(('tar | gzip -6', t, cpu, os.path.getsize(tgz), rss, validate(tgz)))

    ours = os.path.join(out, 'aci_build.aci')

    def fresh_build(no_isal=False):
        if os.path.exists(ours):
            os.unlink(ours)
        return aci_build_run(workdir, layout, ours, no_isal)

    t, rss, result, cpu = best_of(repeat, fresh_build)
    assert result['changed'], result
    label = 'aci_build (isal)' if _has_isal() else 'aci_build (zlib)'
    rows.append((label, t, cpu, os.path.getsize(ours), rss, validate(ours)))
    image_id = result['image_id']

    t, rss, again, cpu = best_of(repeat, lambda: aci_build_run(workdir, layout, ours))
    assert not again['changed'] and again['image_id'] == image_id, again
    rows.append(('aci_build no-op', t, cpu, None, rss, 'changed=false'))

    if with_zlib and _has_isal():
        t, rss, result, cpu = best_of(repeat, lambda: fresh_build(no_isal=True))
        assert result['image_id'] == image_id
        rows.append(('aci_build (zlib fallback)', t, cpu, os.path.getsize(ours), rss, validate(ours)))

    report(size_mb, tree_bytes, files, rows, repeat)
    return rows


def _has_isal():
    try:
        import isal  # noqa: F401 pylint: disable=unused-import
        return True
    except ImportError:
        return False


def report(size_mb, tree_bytes, files, rows, repeat):
    actool_time, actool_size = rows[0][1], rows[0][3]
    print()
    print('tree: %.1f MB in %d files (target %d MB); %d CPU cores, load average %.1f; best of %d run(s), '
          'warm page cache' % (tree_bytes / MB, files, size_mb, os.cpu_count() or 1, os.getloadavg()[0], repeat))
    print('%-27s %8s %8s %9s %12s %12s %12s  %s' % ('tool', 'time s', 'CPU s', 'size MB', 'size/actool',
                                                    'vs actool', 'peak RSS MB', 'actool validate'))
    for name, t, cpu, size, rss, check in rows:
        print('%-27s %8.2f %8.2f %9s %12s %12s %12.1f  %s' % (
            name, t, cpu, '%.1f' % (size / MB) if size else '-', '%.3f' % (size / actool_size) if size else '-',
            '%.1fx faster' % (actool_time / t) if name != 'aci_build no-op' else '%.3f of it' % (t / actool_time),
            rss, check))
    build = rows[2]
    noop = rows[3]
    print('goals: gzip >= 5x faster than actool: %s (%.1fx); size <= 1.15x actool: %s (%.3f); '
          'no-op <= 0.15x actool: %s (%.3f); peak RSS < 150 MB: %s (%.0f MB)' % (
              _ok(actool_time / build[1] >= 5), actool_time / build[1], _ok(build[3] / actool_size <= 1.15),
              build[3] / actool_size, _ok(noop[1] / actool_time <= 0.15), noop[1] / actool_time,
              _ok(max(build[4], noop[4]) < 150), max(build[4], noop[4])))


def _ok(condition):
    return 'met' if condition else 'MISSED'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--sizes', default='300', help='tree sizes in MB, comma separated (default 300; '
                                                       'add 1024 for the 1 GB memory check)')
    parser.add_argument('--repeat', type=int, default=1, help='runs per tool; the fastest counts')
    parser.add_argument('--workdir', default='/var/tmp/aci-bench', help='where trees and images go')
    parser.add_argument('--keep', action='store_true', help='keep the trees and images afterwards')
    parser.add_argument('--zlib', action='store_true', help='also time aci_build without python-isal')
    options = parser.parse_args()
    if not os.access(ACTOOL, os.X_OK):
        sys.exit('actool not found at %s: run `make actool` first' % ACTOOL)
    os.makedirs(options.workdir, exist_ok=True)
    try:
        for size in (int(s) for s in options.sizes.split(',')):
            bench(options.workdir, size, options.repeat, options.zlib)
    finally:
        if not options.keep:
            shutil.rmtree(options.workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
