"""statelock's view of processes: who owns a lock taken from a module, what its file may say."""

import os
import subprocess
import sys
import time

from ansible_collections.aci.registry.plugins.module_utils import statelock

# Stands in for ansible-playbook: the main process forks a worker, as ansible does per task, and
# the worker runs the "module" through a shell. Each writes its pid to a file named after it.
FAKE_PLAYBOOK = r'''
import os, sys, time
out = sys.argv[1]
with open(os.path.join(out, 'main'), 'w') as f:
    f.write(str(os.getpid()))
if os.fork() == 0:
    with open(os.path.join(out, 'worker'), 'w') as f:
        f.write(str(os.getpid()))
    os.system('echo $$ > %s/module.tmp; mv %s/module.tmp %s/module; exec sleep 30' % (out, out, out))
    os._exit(0)
time.sleep(30)
'''


def wait_for(path, seconds=10):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, '%s never appeared' % path
        time.sleep(0.02)
    return int(path.read_text())


def test_the_owner_is_the_outermost_ansible_playbook_not_its_worker(tmp_path):
    script = tmp_path / 'ansible-playbook'
    script.write_text(FAKE_PLAYBOOK)
    # Started as `python .../ansible-playbook`, the way a venv's entry point shows in /proc.
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], start_new_session=True)
    try:
        module = wait_for(tmp_path / 'module')
        worker = wait_for(tmp_path / 'worker')
        assert worker != proc.pid
        owner, kind = statelock.find_owner(module)
        assert kind == 'ansible-playbook' and owner['pid'] == proc.pid
        assert owner['start_time'] == statelock.process(proc.pid)['start_time']
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def test_without_ansible_playbook_the_owner_is_the_parent():
    owner, kind = statelock.find_owner()
    assert kind == 'parent process' and owner['pid'] == os.getppid()


def test_process_reads_a_name_with_spaces_and_parentheses(tmp_path):
    odd = tmp_path / 'a) b (c'
    os.symlink('/bin/sleep', str(odd))
    proc = subprocess.Popen([str(odd), '30'])
    try:
        # Between fork and exec the child is still a copy of pytest.
        deadline = time.monotonic() + 5
        info = statelock.process(proc.pid)
        while info['argv'] != [str(odd), '30'] and time.monotonic() < deadline:
            time.sleep(0.01)
            info = statelock.process(proc.pid)
        assert info['ppid'] == os.getpid() and info['state'] in 'RSD' and info['start_time'] > 0
        assert info['argv'] == [str(odd), '30']
    finally:
        proc.kill()
        proc.wait()
    assert statelock.process(proc.pid) is None


def test_the_command_line_hides_extra_vars():
    argv = ['/usr/bin/python3', '/usr/bin/ansible-playbook', '-i', 'inv/', '-e', 'ca_pass=s3cret',
            '--extra-vars', 'x=1', '--extra-vars=y=2', '-ez=3', '-v', 'site.yml']
    text = statelock.command_line(argv)
    assert 's3cret' not in text and 'x=1' not in text and 'y=2' not in text and 'z=3' not in text
    assert text == ('/usr/bin/python3 /usr/bin/ansible-playbook -i inv/ -e <hidden> --extra-vars <hidden> '
                    '--extra-vars=<hidden> -e<hidden> -v site.yml')
    assert len(statelock.command_line(['x' * 1000])) == 300


def test_parse_accepts_records_only():
    assert statelock.parse(b'{"pid": 12, "start_time": 34, "host": "h"}') == {'pid': 12, 'start_time': 34, 'host': 'h'}
    for data in (b'', b'\xff', b'null', b'[]', b'{"pid": true, "start_time": 1, "host": "h"}', b'{"pid": 1}',
                 b'{"pid": 12, "start_time": 34}'):
        assert statelock.parse(data) is None, data
