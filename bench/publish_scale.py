# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: publishing at scale - a no-change rerun with 4 and with 100 tiny images, and the first publish of 100.

Two registry containers from the project's test image (aci-bench-pub4, aci-bench-pub100), reached
over SSH with pipelining as bench/site_rerun.py reaches its hosts (its container, SSH and timing
helpers are reused, and so is its podman network: do not run both at once). Each has an inventory
of its own (its own state directory): one publishes 4 tiny images, the other first nothing, then
100. Measured, all with `ansible-playbook aci.registry.site`:

- the first publish of 100: the run that adds the 100 images to a registry already converged
  without images (everything else in the site is a no-op by then), goal under 60 s;
- no-change reruns of each inventory, alternating, N times: every one must report changed=0;
  goal: the median with 100 images within 1.5x of the median with 4.

Printed side by side with the goals, with the slowest tasks of the 100-image rerun.

    .venv/bin/python bench/publish_scale.py              # N=3 reruns of each
    .venv/bin/python bench/publish_scale.py --runs 1 --images 100
"""

import argparse
import json
import os
import statistics
import tempfile
import threading
import time

from benchlib import IMAGE, clean_up, log, preflight
from site_rerun import NETWORK, connection_vars, enable_ssh, site, start_containers, task_profile

SMALL, LARGE = 'aci-bench-pub4', 'aci-bench-pub100'
GOAL_RATIO = 1.5
GOAL_FIRST = 60.0


def tiny_images(scratch, count):
    """``count`` images of one script each, every one with different content."""
    images = []
    for number in range(count):
        name, version = 'app%d' % (number // 10), 'v0.0.%d' % (number % 10)
        rootfs = os.path.join(scratch, 'rootfs', '%s-%s' % (name, version))
        os.makedirs(os.path.join(rootfs, 'bin'), exist_ok=True)
        hello = os.path.join(rootfs, 'bin', 'hello')
        with open(hello, 'w') as f:
            f.write('#!/bin/sh\necho hello from %s %s\n' % (name, version))
        os.chmod(hello, 0o755)
        images.append({'name': name, 'version': version, 'rootfs': rootfs,
                       'manifest': {'exec': ['/bin/hello'], 'user': '0', 'group': '0'}})
    return images


def write_inventory(scratch, label, host, address, images):
    """An inventory directory of one registry with its own state directory (hosts.yml + group_vars/all.yml)."""
    path = os.path.join(scratch, 'inventory-%s' % label)
    os.makedirs(os.path.join(path, 'group_vars'))
    with open(os.path.join(path, 'hosts.yml'), 'w') as f:
        json.dump({'aci_registries': {'hosts': {host: {'ansible_host': address}}}}, f, indent=1)
    group_vars = dict(connection_vars(scratch, 'ssh'), **{
        'ansible_python_interpreter': '/usr/bin/python3',
        'aci_registry_domain': 'registry.aci.test',
        'aci_registry_state_dir': os.path.join(scratch, 'state-%s' % host),
        # Small keys, so the first converge is quick; a rerun makes no key at all.
        'pki_key_type': 'ecdsa',
        'pki_ca_key_type': 'ecdsa',
        'aci_registry_signing_key': {'name_real': 'aci.registry bench signer', 'algorithm': 'rsa2048'},
        'aci_registry_images': images,
    })
    with open(os.path.join(path, 'group_vars', 'all.yml'), 'w') as f:
        json.dump(group_vars, f, indent=1)
    return path


def converge_both(scratch, inventories):
    """The first converge of both registries at once (they share nothing): pki, server, an empty or small web root."""
    results, failures, threads = {}, {}, []

    def converge(label, inventory):
        # site() ends a failed run with SystemExit, which a thread would swallow without a word.
        try:
            results[label] = site(scratch, inventory, 'converge-' + label)
        except SystemExit as e:
            failures[label] = str(e)

    for label, inventory in inventories.items():
        thread = threading.Thread(target=converge, args=(label, inventory))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit('the first converge of %s failed:\n%s' % (
            ', '.join(sorted(failures)), '\n'.join(failures[label] for label in sorted(failures))))
    return results


def changed_hosts(result):
    return {host: r['changed'] for host, r in result['recap'].items() if r['changed']}


def role_seconds(result, role='aci.registry.publish'):
    """Seconds spent in one role's tasks: the share of a site run that publishing costs."""
    return sum(task['seconds'] for task in result['tasks'] if task['name'].startswith(role + ' : '))


def report(args, first, reruns):
    medians = {label: statistics.median(r['wall'] for r in runs) for label, runs in reruns.items()}
    ratio = medians['large'] / medians['small']
    print('\nPublishing at scale, one registry over ssh with pipelining, tiny images; %d rerun(s) each, alternating'
          % args.runs)
    print('  %-36s %10s %18s %12s %12s %7s' % ('run', 'median s', 'runs s', 'publish s', 'ctrl CPU s', 'tasks'))
    for label, count in (('small', 4), ('large', args.images)):
        runs = reruns[label]
        print('  %-36s %10.1f %18s %12.1f %12.1f %7d' % (
            'no-change rerun, %d images' % count, medians[label], ' '.join('%.1f' % r['wall'] for r in runs),
            statistics.median(role_seconds(r) for r in runs), statistics.median(r['cpu'] for r in runs),
            len(runs[0]['tasks'])))
    print('  %-36s %10.1f %18s %12.1f %12.1f %7d' % (
        'first publish of %d images' % args.images, first['wall'], '', role_seconds(first), first['cpu'],
        len(first['tasks'])))
    print('  (publish s: the publish role\'s tasks in that site run; the rest of the site is a no-op every time)')
    print('\n  rerun %d / rerun 4: %.2fx (goal < %.1fx: %s)' % (
        args.images, ratio, GOAL_RATIO, 'met' if ratio < GOAL_RATIO else 'MISSED'))
    print('  first publish of %d: %.1f s, the whole site run (goal < %.0f s: %s); %.1f s more than a no-change '
          'rerun of the same site' % (args.images, first['wall'], GOAL_FIRST,
                                      'met' if first['wall'] < GOAL_FIRST else 'MISSED', first['wall'] - medians['large']))
    print('  1-min load during the runs: %.2f-%.2f; other processes used %.2f cores on average' % (
        min(r['load'] for runs in reruns.values() for r in runs), max(r['load'] for runs in reruns.values() for r in runs),
        statistics.mean(r['others_cores'] for runs in reruns.values() for r in runs)))
    small = {key: seconds for key, seconds, _task in task_profile(reruns['small'])}
    print('\nThe %d slowest tasks of the %d-image rerun (median s; items = loop items):' % (args.top, args.images))
    print('  %-72s %8s %8s %6s' % ('task', '4 images', str(args.images), 'items'))
    for key, seconds, task in sorted(task_profile(reruns['large']), key=lambda row: -row[1])[:args.top]:
        print('  %-72s %8.2f %8.2f %6d' % (key[1][:72], small.get(key, 0.0), seconds, task['items']))
    print('\nThe slowest tasks of the first publish:')
    for task in sorted(first['tasks'], key=lambda t: -t['seconds'])[:args.top]:
        print('  %-72s %8.2f' % (task['name'][:72], task['seconds']))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--runs', type=int, default=3, help='reruns of each inventory; the median counts (3)')
    parser.add_argument('--images', type=int, default=100, help='images of the large registry (100)')
    parser.add_argument('--top', type=int, default=10, help='how many of the slowest tasks to list (10)')
    parser.add_argument('--image', default=IMAGE, help='the test-host image (%s)' % IMAGE)
    parser.add_argument('--keep', action='store_true', help='leave the containers running')
    args = parser.parse_args()

    preflight(args.image)
    names = [SMALL, LARGE]
    scratch = tempfile.mkdtemp(prefix='aci-bench-pub.')
    started = time.monotonic()
    try:
        log('starting %s' % ', '.join(names))
        start_containers(args.image, names)
        addresses = enable_ssh(scratch, names)
        small = write_inventory(scratch, 'small', SMALL, addresses[SMALL], tiny_images(scratch, 4))
        empty = write_inventory(scratch, 'empty', LARGE, addresses[LARGE], [])
        large = write_inventory(scratch, 'large', LARGE, addresses[LARGE], tiny_images(scratch, args.images))
        log('converging both registries once (4 images, and none)')
        converge_both(scratch, {'small': small, 'empty': empty})
        log('first publish of %d images' % args.images)
        first = site(scratch, large, 'first-publish')
        log('first publish: %.1f s wall, %.1f s controller CPU' % (first['wall'], first['cpu']))
        reruns = {'small': [], 'large': []}
        for number in range(1, args.runs + 1):
            for label, inventory in (('small', small), ('large', large)):
                result = site(scratch, inventory, 'rerun-%s-%d' % (label, number))
                if changed_hosts(result):
                    raise SystemExit('rerun %d (%s) was not idempotent: changed %s (see %s)'
                                     % (number, label, changed_hosts(result), result['log']))
                reruns[label].append(result)
                log('rerun %d, %s: %.1f s wall, %.1f s controller CPU, load %.2f'
                    % (number, label, result['wall'], result['cpu'], result['load']))
        report(args, first, reruns)
        print('\nTotal time %.0f s.' % (time.monotonic() - started))
    finally:
        clean_up(names, NETWORK, scratch, args.keep)


if __name__ == '__main__':
    main()
