# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-task wall times for bench/site_rerun.py, written as JSON.

ansible.posix's profile_tasks is not installed here (only containers.podman is unpacked from the
ansible bundle), and this is all the benchmark needs: for each task, in order, the time from its
start to the next task's start (so it includes waiting for the slowest host), how many hosts and
loop items reported, and how many changed.

    ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins ANSIBLE_CALLBACKS_ENABLED=bench_timer \
    BENCH_TIMER_FILE=/tmp/tasks.json ansible-playbook ...
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Per-task wall times as JSON, for bench/site_rerun.py
description:
  - Writes every task's wall time, host and loop item counts to the file named by E(BENCH_TIMER_FILE).
requirements:
  - enable in configuration
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._tasks = []
        self._current = None
        self._play = ''
        self._started = time.monotonic()

    def _close(self):
        if self._current is not None:
            self._current['seconds'] = time.monotonic() - self._current.pop('start')
            self._tasks.append(self._current)
            self._current = None

    def v2_playbook_on_play_start(self, play):
        self._close()
        self._play = play.get_name()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = {'play': self._play, 'name': task.get_name(), 'action': task.action,
                         'start': time.monotonic(), 'hosts': 0, 'items': 0, 'changed': 0, 'skipped': 0}

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _result(self, result, skipped=False):
        if self._current is not None:
            self._current['hosts'] += 1
            self._current['skipped'] += int(skipped)
            self._current['changed'] += int(bool(result._result.get('changed')))

    def v2_runner_on_ok(self, result):
        self._result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result)

    def v2_runner_on_skipped(self, result):
        self._result(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._result(result)

    def v2_runner_item_on_ok(self, result):
        if self._current is not None:
            self._current['items'] += 1

    v2_runner_item_on_failed = v2_runner_item_on_skipped = v2_runner_item_on_ok

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get('BENCH_TIMER_FILE')
        if path:
            with open(path, 'w') as f:
                json.dump({'seconds': time.monotonic() - self._started, 'tasks': self._tasks}, f, indent=1)
