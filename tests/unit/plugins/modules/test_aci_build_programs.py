# Copyright: (c) 2026, aci.registry maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aci_build with programs and files of the build host: the loader's view of each program in the
image, reproducible, combined with a rootfs, and refusals that write nothing."""

import os
import shutil
import subprocess
import tarfile

import pytest

from ansible_collections.aci.registry.plugins.module_utils import aci

LABELS = {'version': 'v0.0.1', 'os': 'linux', 'arch': 'amd64'}


@pytest.fixture
def run(run_aci_build):
    return run_aci_build


@pytest.fixture
def script(tmp_path):
    path = tmp_path / 'app1.sh'
    path.write_text('#!/usr/bin/bash\necho hello\n')
    return path


def app1_args(tmp_path, script, **extra):
    args = dict(programs=['/usr/bin/bash'], files=[dict(src=str(script), dest='/bin/app1', mode='0755')],
                dest=str(tmp_path / 'app1.aci'), name='example.com/app1', labels=LABELS,
                exec=['/usr/bin/bash', '-c', '/bin/app1'], user='0', group='0', owner_root=True)
    args.update(extra)
    return args


def members(path):
    return dict((e.name, e) for e in aci.iter_entries(str(path)))


def run_in_image(image, tmp_path, *argv):
    """Runs ``argv`` chrooted into the image's rootfs, where only the image's files exist: the
    test runs the program (the module never does) to show the loader finds all it needs."""
    root = tmp_path / 'extracted'
    if not root.exists():
        with tarfile.open(str(image)) as tar:
            tar.extractall(str(root))
    return subprocess.run([shutil.which('chroot'), str(root / 'rootfs')] + list(argv), capture_output=True, text=True,
                          timeout=30, check=False, env={'PATH': '/usr/bin:/bin'})


def test_bash_and_a_script_four_calls(run, tmp_path, script):
    args = app1_args(tmp_path, script)
    results = [run(args, check_mode=True, expect_failure=False), run(args, expect_failure=False),
               run(args, check_mode=True, expect_failure=False), run(args, expect_failure=False)]
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert len(set(r['image_id'] for r in results)) == 1
    image = members(tmp_path / 'app1.aci')
    assert image['rootfs/bin/app1'].mode == 0o755 and image['rootfs/usr/bin/bash'].kind == aci.FILE
    ran = run_in_image(tmp_path / 'app1.aci', tmp_path, '/usr/bin/bash', '-c', '/bin/app1')
    assert (ran.returncode, ran.stdout) == (0, 'hello\n'), ran.stderr


def test_a_larger_program_with_tls_libraries_runs_from_the_image(run, tmp_path):
    dest = tmp_path / 'curl.aci'
    run(dict(programs=['/usr/bin/curl'], dest=str(dest), name='example.com/curl', labels=LABELS,
             exec=['/usr/bin/curl', '--version'], user='0', group='0'), expect_failure=False)
    names = members(dest)
    assert any('libssl.so' in name for name in names) and any('libcurl.so' in name for name in names)
    ran = run_in_image(dest, tmp_path, '/usr/bin/curl', '--version')
    assert ran.returncode == 0 and ran.stdout.startswith('curl ') and 'OpenSSL' in ran.stdout, ran.stderr


def test_a_program_under_a_symlinked_directory_keeps_the_link(run, tmp_path, script):
    """Debian's merged /usr: /bin is a link to usr/bin, so /bin/bash and /bin/app1 work as on the host."""
    if not os.path.islink('/bin'):
        pytest.skip('this host has no merged /usr')
    args = app1_args(tmp_path, script, programs=['/bin/bash'], exec=['/bin/bash', '-c', '/bin/app1'])
    run(args, expect_failure=False)
    image = members(tmp_path / 'app1.aci')
    assert image['rootfs/bin'].kind == aci.SYMLINK and image['rootfs/bin'].linkname == os.readlink('/bin')
    assert 'rootfs/usr/bin/app1' in image and 'rootfs/usr/bin/bash' in image
    ran = run_in_image(tmp_path / 'app1.aci', tmp_path, '/bin/bash', '-c', '/bin/app1')
    assert (ran.returncode, ran.stdout) == (0, 'hello\n'), ran.stderr


def test_rebuilt_from_scratch_byte_identical(run, tmp_path, script):
    first = run(app1_args(tmp_path, script), expect_failure=False)
    content = (tmp_path / 'app1.aci').read_bytes()
    os.unlink(str(tmp_path / 'app1.aci'))
    again = run(app1_args(tmp_path, script), expect_failure=False)
    assert again['image_id'] == first['image_id'] and (tmp_path / 'app1.aci').read_bytes() == content


def test_a_changed_script_is_a_change(run, tmp_path, script):
    run(app1_args(tmp_path, script), expect_failure=False)
    script.write_text('#!/usr/bin/bash\necho hello again\n')
    assert run(app1_args(tmp_path, script), expect_failure=False)['changed']


def test_static_program_alone(run, tmp_path):
    result = run(dict(programs=['/usr/bin/busybox'], dest=str(tmp_path / 'bb.aci'), name='example.com/bb',
                      labels=LABELS, exec=['/usr/bin/busybox', 'true'], user='0', group='0'), expect_failure=False)
    assert result['changed']
    files = sorted(n for n, e in members(tmp_path / 'bb.aci').items() if e.kind != aci.DIRECTORY)
    assert files == ['manifest', 'rootfs/usr/bin/busybox']


def test_rootfs_and_programs_combined(run, tmp_path, script):
    rootfs = tmp_path / 'rootfs'
    (rootfs / 'etc').mkdir(parents=True)
    (rootfs / 'etc' / 'motd').write_text('welcome\n')
    run(app1_args(tmp_path, script, rootfs=str(rootfs)), expect_failure=False)
    image = members(tmp_path / 'app1.aci')
    assert 'rootfs/etc/motd' in image and 'rootfs/usr/bin/bash' in image and 'rootfs/bin/app1' in image


def test_a_file_in_both_is_refused(run, tmp_path, script):
    rootfs = tmp_path / 'rootfs'
    (rootfs / 'bin').mkdir(parents=True)
    (rootfs / 'bin' / 'app1').write_text('other\n')
    result = run(app1_args(tmp_path, script, rootfs=str(rootfs)), expect_failure=True)
    assert '/bin/app1 is in the rootfs and also files[1]' in result['msg']
    assert not (tmp_path / 'app1.aci').exists()


@pytest.mark.parametrize('change, words', [
    (dict(files=[dict(src='/nonexistent/app1', dest='/bin/app1')]), 'src /nonexistent/app1 is not a file'),
    (dict(files=[dict(src='/etc/hostname', dest='bin/app1')]), 'is not an absolute path in the image'),
    (dict(files=[dict(src='/etc/hostname', dest='/../app1')]), 'without ".."'),
    (dict(files=[dict(src='/etc/hostname', dest='/bin/app1', mode='rwx')]), 'is not an octal number'),
    (dict(programs=['/nonexistent/prog']), '/nonexistent/prog'),
    (dict(programs=['/etc/hostname']), '/etc/hostname'),
    (dict(from_aci='/x.aci'), 'mutually exclusive'),
])
def test_bad_programs_and_files_write_nothing(run, tmp_path, script, change, words):
    result = run(app1_args(tmp_path, script, **change), expect_failure=True)
    assert words in result['msg'] and 'Traceback' not in result['msg']
    assert not (tmp_path / 'app1.aci').exists()


def test_a_script_whose_interpreter_is_missing_gets_a_warning(run, tmp_path, script, warnings):
    script.write_text('#!/bin/zsh\necho hello\n')
    run(app1_args(tmp_path, script), expect_failure=False)
    assert any('files[1] (/bin/app1) starts with #!/bin/zsh, which is not in the image' in w for w in warnings)
    del warnings[:]
    script.write_text('#!/usr/bin/bash\necho hello\n')
    run(app1_args(tmp_path, script), expect_failure=False)
    assert not any('#!' in w for w in warnings)
