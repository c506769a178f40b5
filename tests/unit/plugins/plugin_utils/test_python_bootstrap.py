"""python_bootstrap: the probe and the installer run with sh against fake Pythons in a directory,
the plan from probe results, and the checks of the archive on the controller."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from ansible_collections.aci.registry.plugins.plugin_utils import python_bootstrap as pb

SHA = 'ab' * 32


def fake_python(path, rc=0, say=''):
    """A stand-in interpreter: ignores its arguments, prints say, exits rc."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#!/bin/sh\n%s\nexit %d\n' % ('echo "%s" >&2' % say if say else '', rc))
    path.chmod(0o755)
    return str(path)


def sh(command):
    return subprocess.run(['sh', '-c', command], capture_output=True, text=True, check=False)


def make_archive(path, marker=None, python_rc=0, say='', extra=()):
    """A tar.gz in the role's layout whose python/bin/python3 is a shell script."""
    marker = {'format': 1, 'arch': 'x86_64'} if marker is None else marker

    def add(tar, name, data=b'', mode=0o644, **kw):
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), mode
        for key, value in kw.items():
            setattr(info, key, value)
        tar.addfile(info, io.BytesIO(data) if data else None)

    with tarfile.open(str(path), 'w:gz') as tar:
        if marker is not False:
            add(tar, 'python/aci-registry-python.json', marker if isinstance(marker, bytes) else json.dumps(marker).encode())
        script = ('#!/bin/sh\n%sexit %d\n' % ('echo "%s" >&2\n' % say if say else 'echo 3.11.2\n', python_rc)).encode()
        add(tar, 'python/bin/python3.11', script, mode=0o755)
        add(tar, 'python/bin/python3', type=tarfile.SYMTYPE, linkname='python3.11')
        for name, kw in extra:
            add(tar, name, **kw)
    return str(path)


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


# The probe

def probe(tmp_path, candidates, target=None):
    target = target or str(tmp_path / 'opt' / 'python')
    out = sh(pb.probe_command(candidates, target, ['cryptography'], ['cryptography', 'gnupg']))
    assert out.returncode == 0, out.stderr
    return pb.parse_probe(out.stdout)


def test_a_python_with_the_imports_is_used_and_nothing_else_is_looked_at(tmp_path):
    good = fake_python(tmp_path / 'good')
    found = probe(tmp_path, [good, fake_python(tmp_path / 'other')])
    assert found['system'] == good and found['arch'] == os.uname().machine
    assert found['installed_sha256'] == '' and not found['installed']


def test_an_old_python_is_skipped_and_one_without_the_imports_is_partial(tmp_path):
    old, partial = fake_python(tmp_path / 'old', rc=3), fake_python(tmp_path / 'partial', rc=1)
    found = probe(tmp_path, [str(tmp_path / 'missing'), old, partial])
    assert found['system'] == '' and found['partial'] == partial


def test_the_installed_copy_is_seen_with_its_archive_sha(tmp_path):
    target = tmp_path / 'opt' / 'python'
    fake_python(target / 'bin' / 'python3')
    (target / pb.SHA_FILE).write_text(SHA + '\n')
    found = probe(tmp_path, ['/nonexistent/python3'], str(target))
    assert found['installed'] and found['installed_sha256'] == SHA


def test_the_installed_copy_is_not_probed_twice_as_a_candidate(tmp_path):
    command = pb.probe_command(['/opt/aci-registry/python/bin/python3', '/usr/bin/python3'], '/opt/aci-registry/python', [], [])
    assert 'system=/opt/aci-registry/python' not in command and 'system=/usr/bin/python3' in command


def test_a_probe_without_an_answer_is_refused():
    with pytest.raises(pb.BootstrapError, match='did not answer'):
        pb.parse_probe('Welcome to host\n', 'sh: uname: not found')


def test_banners_around_the_answer_are_ignored():
    found = pb.parse_probe('motd\naci-bootstrap-arch=aarch64\nnoise=1\n')
    assert found['arch'] == 'aarch64' and found['system'] == ''


@pytest.mark.parametrize('bad', ['os; import evil', 'a b', '', '1x'])
def test_import_names_are_python_names(bad):
    with pytest.raises(pb.BootstrapError, match='not a Python module name'):
        pb.probe_command(['/usr/bin/python3'], '/opt/p', [bad], [])


@pytest.mark.parametrize('target', ['', 'opt/python', '/'])
def test_the_target_is_an_absolute_path_below_root(target):
    with pytest.raises(pb.BootstrapError, match='absolute path'):
        pb.check_target(target)


# The plan

PROBE = dict(arch='x86_64', system='', partial='', installed_sha256='', installed=False)
ARCHIVE = dict(path='/a.tar.gz', sha256=SHA, manifest={'format': 1, 'arch': 'x86_64'})


def plan(archive='/a.tar.gz', manifest=None, **probe):
    def read(path):
        return dict(ARCHIVE, manifest=manifest or ARCHIVE['manifest'])
    return pb.plan(dict(PROBE, **probe), archive, '/opt/aci-registry/python', read=read)


def test_a_usable_host_python_wins_and_the_archive_is_not_read():
    def read(path):
        raise AssertionError('the archive was read')
    step = pb.plan(dict(PROBE, system='/usr/bin/python3'), '/a.tar.gz', '/opt/aci-registry/python', read=read)
    assert step == dict(action='system', python='/usr/bin/python3')


def test_no_python_and_no_archive_fails_naming_the_variable():
    with pytest.raises(pb.BootstrapError, match='set bootstrap_python_archive.*make python-archive'):
        plan(archive='')


def test_without_an_archive_an_installed_copy_then_a_partial_python_is_used():
    assert plan(archive='', installed=True, partial='/usr/bin/python3')['action'] == 'installed'
    assert plan(archive='', partial='/usr/bin/python3') == dict(action='partial', python='/usr/bin/python3')


def test_the_copy_of_the_same_archive_is_kept():
    step = plan(installed=True, installed_sha256=SHA)
    assert step['action'] == 'installed' and step['python'] == '/opt/aci-registry/python/bin/python3'


@pytest.mark.parametrize('probe', [dict(installed=True, installed_sha256='cd' * 32), dict(installed=False, installed_sha256=SHA), {}])
def test_a_new_archive_or_a_broken_copy_is_installed(probe):
    assert plan(**probe)['action'] == 'install'


def test_an_archive_for_another_architecture_is_refused():
    with pytest.raises(pb.BootstrapError, match='a Python for aarch64, and this host is x86_64'):
        plan(manifest={'format': 1, 'arch': 'aarch64'})
    assert plan(manifest={'format': 1, 'arch': 'amd64'})['action'] == 'install'


# The archive, on the controller

def test_a_good_archive_gives_its_sha_and_marker(tmp_path):
    path = make_archive(tmp_path / 'p.tar.gz', marker={'format': 1, 'arch': 'x86_64', 'python': '3.11.2'})
    archive = pb.read_archive(path)
    assert archive['sha256'] == sha256(path) and archive['manifest']['python'] == '3.11.2'


def test_the_built_archive_passes_when_there_is_one():
    built = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '.build', 'python',
                         'aci-registry-python-%s.tar.gz' % os.uname().machine)
    if not os.path.exists(built):
        pytest.skip('no archive built (make python-archive)')
    assert pb.read_archive(built)['manifest']['arch'] == os.uname().machine


def test_a_file_that_is_not_a_tar_is_refused(tmp_path):
    path = tmp_path / 'p.tar.gz'
    path.write_bytes(b'not a tar at all' * 100)
    with pytest.raises(pb.BootstrapError, match='is not a tar archive'):
        pb.read_archive(str(path))


@pytest.mark.parametrize('marker, message', [
    (False, 'has no python/aci-registry-python.json'),
    (b'{not json', 'is not JSON'),
    ({'arch': 'x86_64'}, '"format": 1 and "arch"'),
    ({'format': 1}, '"format": 1 and "arch"'),
])
def test_a_missing_or_bad_marker_is_refused(tmp_path, marker, message):
    with pytest.raises(pb.BootstrapError, match=message):
        pb.read_archive(make_archive(tmp_path / 'p.tar.gz', marker=marker))


@pytest.mark.parametrize('extra, message', [
    (('etc/passwd', {}), 'outside the top-level directory'),
    (('python/../../etc/x', {}), 'outside the top-level directory'),
    (('python/lib/up', dict(type=tarfile.SYMTYPE, linkname='../../../etc')), 'links must stay inside'),
    (('python/lib/abs', dict(type=tarfile.SYMTYPE, linkname='/etc/shadow')), 'links must stay inside'),
    (('python/dev', dict(type=tarfile.CHRTYPE)), 'special file'),
])
def test_entries_that_leave_the_directory_or_are_special_are_refused(tmp_path, extra, message):
    with pytest.raises(pb.BootstrapError, match=message):
        pb.read_archive(make_archive(tmp_path / 'p.tar.gz', extra=[extra]))


def test_an_archive_without_the_interpreter_is_refused(tmp_path):
    path = tmp_path / 'p.tar'
    with tarfile.open(str(path), 'w') as tar:
        data = json.dumps({'format': 1, 'arch': 'x86_64'}).encode()
        info = tarfile.TarInfo('python/aci-registry-python.json')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(pb.BootstrapError, match='has no python/bin/python3'):
        pb.read_archive(str(path))


# The installer, run with sh

def install(archive, target):
    out = sh(pb.install_command(archive, str(target), sha256(archive), ['cryptography', 'gnupg']))
    return pb.parse_install(out.returncode, out.stdout, out.stderr)


def test_installing_makes_a_copy_and_links_the_target_to_it(tmp_path):
    archive, target = make_archive(tmp_path / 'p.tar.gz'), tmp_path / 'opt' / 'python'
    copy = install(archive, target)
    assert os.readlink(str(target)) == 'python.' + sha256(archive)[:16] == os.path.basename(copy)
    assert (target / pb.SHA_FILE).read_text() == sha256(archive) + '\n'
    assert os.access(str(target / 'bin' / 'python3'), os.X_OK)
    assert sorted(os.listdir(str(target.parent))) == ['python', os.path.basename(copy)]


def test_a_new_archive_replaces_the_copy_and_the_old_one_goes(tmp_path):
    target = tmp_path / 'opt' / 'python'
    first = install(make_archive(tmp_path / 'a.tar.gz'), target)
    second = install(make_archive(tmp_path / 'b.tar.gz', marker={'format': 1, 'arch': 'x86_64', 'v': 2}), target)
    assert first != second and not os.path.exists(first)
    assert sorted(os.listdir(str(target.parent))) == ['python', os.path.basename(second)]


def test_a_python_that_does_not_run_here_fails_with_what_it_said_and_leaves_the_old_copy(tmp_path):
    target = tmp_path / 'opt' / 'python'
    good = install(make_archive(tmp_path / 'a.tar.gz'), target)
    bad = make_archive(tmp_path / 'b.tar.gz', python_rc=1, say="version GLIBC_2.99 not found (required by python3)")
    with pytest.raises(pb.BootstrapError, match="does not run here: .*GLIBC_2.99") as e:
        install(bad, target)
    assert 'GLIBC_2.99' in e.value.output
    assert os.path.realpath(str(target)) == good
    assert sorted(os.listdir(str(target.parent))) == ['python', os.path.basename(good)]


def test_a_directory_at_the_target_and_leftovers_of_an_interrupted_run_are_replaced(tmp_path):
    target = tmp_path / 'opt' / 'python'
    fake_python(target / 'bin' / 'python3')
    (tmp_path / 'opt' / '.python.new.XXXX12').mkdir()
    copy = install(make_archive(tmp_path / 'a.tar.gz'), target)
    assert os.path.islink(str(target))
    assert sorted(os.listdir(str(target.parent))) == ['python', os.path.basename(copy)]


def test_an_archive_tar_cannot_unpack_fails_and_leaves_nothing(tmp_path):
    archive = tmp_path / 'a.tar.gz'
    archive.write_bytes(b'garbage')
    with pytest.raises(pb.BootstrapError, match='tar could not unpack'):
        install(str(archive), tmp_path / 'opt' / 'python')
    assert os.listdir(str(tmp_path / 'opt')) == []


def test_an_installer_that_says_nothing_is_a_failure():
    with pytest.raises(pb.BootstrapError, match='without saying why: killed'):
        pb.parse_install(137, '', 'killed')


@pytest.mark.skipif(not shutil.which('shellcheck'), reason='shellcheck is not installed')
def test_the_shell_the_host_runs_passes_shellcheck():
    for script in (pb.INSTALLER, pb.probe_command(['/usr/bin/python3'], '/opt/p', ['cryptography'], ['gnupg'])):
        out = subprocess.run(['shellcheck', '-s', 'sh', '-'], input=script, capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stdout
