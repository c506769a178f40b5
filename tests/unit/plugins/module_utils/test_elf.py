"""The ELF resolver: what an image needs so a program runs, found as ld.so finds it.

Host programs are checked against ``ldd`` (the oracle: the tests may run it, the resolver never
does); the search rules are checked in fake roots with programs gcc builds here.
"""

import os
import platform
import posixpath
import random
import shutil
import struct
import subprocess

import pytest

from ansible_collections.aci.registry.plugins.module_utils import elf

HOST_LDSO = '/lib64/ld-linux-x86-64.so.2'
LIBDIR = '/usr/lib/x86_64-linux-gnu'

# The host checks and the fake roots copy Debian's x86-64 layout and its loader.
pytestmark = pytest.mark.skipif(platform.machine() != 'x86_64' or not os.path.exists(HOST_LDSO),
                                reason='needs an x86-64 glibc host')


def ldd(path):
    """``{needed name or loader path: path or None}`` as ldd prints it, without the vdso."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('LD_')}
    out = subprocess.run(['ldd', str(path)], env=env, capture_output=True, text=True, check=False).stdout
    found = {}
    for words in (line.split() for line in out.splitlines()):
        if len(words) >= 3 and words[1] == '=>':
            found[words[0]] = None if words[2] == 'not' else words[2]
        elif words and words[0].startswith('/'):
            found[words[0]] = words[0]
    return found


def image_realpath(plan, path):
    """Where ``path`` leads in an image made from ``plan`` (its file), or ``None``."""
    entries = {e.path: e for e in plan}
    done, todo, hops = '/', path.split('/')[::-1], 0
    while todo:
        part = todo.pop()
        if part in ('', '.'):
            continue
        if part == '..':
            done = posixpath.dirname(done)
            continue
        here = posixpath.join(done, part)
        entry = entries.get(here)
        if entry is not None and entry.kind == 'symlink':
            hops += 1
            assert hops < 40
            done = '/' if entry.target.startswith('/') else done
            todo.extend(entry.target.split('/')[::-1])
        elif entry is not None or any(p.startswith(here + '/') for p in entries):
            done = here
        else:
            return None
    return done if entries.get(done) and entries[done].kind == 'file' else None


def files(plan):
    return {e.path for e in plan if e.kind == 'file'}


def assert_plan_is_the_host(plan, root='/'):
    """Sorted, unique, and each entry is what the host has at that path."""
    paths = [e.path for e in plan]
    assert paths == sorted(set(paths))
    host = root.rstrip('/')
    for e in plan:
        if e.kind == 'symlink':
            assert os.readlink(host + e.path) == e.target
        else:
            assert e.kind == 'file' and e.source == host + e.path
            assert os.path.isfile(e.source) and not os.path.islink(e.source)
            assert os.path.realpath(e.source) == e.source or root != '/'


# ---- programs of this host, against ldd --------------------------------------------------------

def test_bash_gets_what_ldd_loads_with_the_symlinks_kept():
    plan = elf.resolve(['/usr/bin/bash'])
    assert_plan_is_the_host(plan)
    oracle = ldd('/usr/bin/bash')
    assert {'libc.so.6', 'libtinfo.so.6', HOST_LDSO} <= set(oracle)
    assert files(plan) == {os.path.realpath(p) for p in oracle.values()} | {os.path.realpath('/usr/bin/bash')}
    for path in oracle.values():
        assert image_realpath(plan, path) == os.path.realpath(path)
    entries = {e.path: e for e in plan}
    tinfo = os.path.realpath(posixpath.dirname(oracle['libtinfo.so.6'])) + '/libtinfo.so.6'
    assert entries[tinfo] == elf.PlanEntry(tinfo, 'symlink', target=os.readlink(tinfo))
    target = posixpath.join(posixpath.dirname(tinfo), os.readlink(tinfo))
    assert entries[target].kind == 'file'
    # Debian 12 (merged /usr): the loader path goes through two symlinked directories and a link.
    for link in ('/lib64', '/lib', '/usr/lib64/ld-linux-x86-64.so.2'):
        if os.path.islink(link):
            assert entries[link].target == os.readlink(link)


def test_curl_sonames_are_ldds():
    if not os.path.exists('/usr/bin/curl'):
        pytest.skip('curl is not installed')
    plan = elf.resolve(['/usr/bin/curl'])
    assert_plan_is_the_host(plan)
    oracle = ldd('/usr/bin/curl')
    assert 'libssl.so.3' in oracle or 'libgnutls.so.30' in oracle
    sonames = {elf.read_elf(e.source).soname for e in plan if e.kind == 'file'} - {None}
    loader = elf.read_elf(os.path.realpath(HOST_LDSO)).soname
    assert sonames == {name for name in oracle if '/' not in name} | {loader}
    for path in oracle.values():
        assert image_realpath(plan, path) == os.path.realpath(path)


def test_two_programs_share_one_plan():
    both = elf.resolve(['/usr/bin/bash', '/usr/bin/curl'])
    assert_plan_is_the_host(both)
    assert set(both) == set(elf.resolve(['/usr/bin/bash'])) | set(elf.resolve(['/usr/bin/curl']))


def test_a_static_program_needs_only_itself():
    busybox = '/bin/busybox'
    if not os.path.exists(busybox):
        pytest.skip('busybox-static is not installed')
    info = elf.read_elf(busybox)
    assert info.interp is None and info.needed == ()
    plan = elf.resolve([busybox])
    assert files(plan) == {os.path.realpath(busybox)}
    assert image_realpath(plan, busybox) == os.path.realpath(busybox)


def test_nothing_is_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError('the resolver ran something')
    for name in ('execv', 'execve', 'execvp', 'posix_spawn', 'system', 'popen'):
        monkeypatch.setattr(os, name, refuse)
    monkeypatch.setattr(subprocess, 'Popen', refuse)
    assert elf.resolve(['/usr/bin/bash'])


def test_the_host_cache_has_every_library_ldd_found_for_bash():
    cache = elf.read_ld_cache('/etc/ld.so.cache')
    names = [name for name in ldd('/usr/bin/bash') if '/' not in name]
    assert names
    for name, path in ldd('/usr/bin/bash').items():
        if '/' not in name:
            assert path in cache[name]


# ---- fake roots with programs built here -------------------------------------------------------

SOURCES = {
    'libdep': 'int dep(void) { return 1; }\n',
    'libtop': 'int dep(void);\nint top(void) { return dep(); }\n',
    'uses_dep': 'int dep(void);\nint main(void) { return dep() - 1; }\n',
    'uses_top': 'int top(void);\nint main(void) { return top() - 1; }\n',
    'plain': 'int main(void) { return 0; }\n',
}
ORIGIN_RPATH = '-Wl,-rpath,$ORIGIN/../lib'
BUILDS = {
    'libdep.so.1': ('libdep', '-shared', '-fPIC', '-Wl,-soname,libdep.so.1'),
    'libtop.so': ('libtop', '-shared', '-fPIC', '-Wl,-soname,libtop.so', '-l:libdep.so.1'),
    'rpath': ('uses_dep', '-Wl,--disable-new-dtags', ORIGIN_RPATH, '-l:libdep.so.1'),
    'runpath': ('uses_dep', '-Wl,--enable-new-dtags', ORIGIN_RPATH, '-l:libdep.so.1'),
    'top_rpath': ('uses_top', '-Wl,--disable-new-dtags', ORIGIN_RPATH, '-l:libtop.so'),
    'top_runpath': ('uses_top', '-Wl,--enable-new-dtags', ORIGIN_RPATH, '-l:libtop.so'),
    'no_rpath': ('uses_dep', '-l:libdep.so.1'),
    'plain': ('plain',),
    'nodeflib': ('plain', '-Wl,-z,nodefaultlib'),
    'lib_dst': ('plain', '-Wl,-rpath,/opt/$LIB'),
}


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """Host paths of the programs and libraries in BUILDS, compiled once."""
    if shutil.which('gcc') is None:
        pytest.skip('gcc is not installed')
    out = tmp_path_factory.mktemp('elf-build')
    for name, source in SOURCES.items():
        (out / (name + '.c')).write_text(source)
    for name, (source, *flags) in BUILDS.items():
        subprocess.run(['gcc', '-o', name, source + '.c', '-L.', '-Wl,-rpath-link,.', *flags], cwd=out, check=True)
    return {name: out / name for name in BUILDS}


def fake_root(tmp_path):
    """A merged-/usr root like Debian 12's, holding the host's loader and libc."""
    root = tmp_path / 'root'
    for d in (LIBDIR, '/usr/lib64', '/usr/bin', '/opt/app/bin', '/opt/app/lib', '/etc'):
        (root / d.lstrip('/')).mkdir(parents=True, exist_ok=True)
    for link, target in (('lib', 'usr/lib'), ('lib64', 'usr/lib64'), ('bin', 'usr/bin')):
        (root / link).symlink_to(target)
    shutil.copy(os.path.realpath(HOST_LDSO), root / LIBDIR.lstrip('/') / 'ld-linux-x86-64.so.2')
    (root / 'usr/lib64/ld-linux-x86-64.so.2').symlink_to('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2')
    shutil.copy(os.path.realpath(LIBDIR + '/libc.so.6'), root / LIBDIR.lstrip('/') / 'libc.so.6')
    return root


def install(source, root, path, mode=0o755):
    dest = root / path.lstrip('/')
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    dest.chmod(mode)
    return dest


BASE_FILES = {LIBDIR + '/libc.so.6', LIBDIR + '/ld-linux-x86-64.so.2'}


@pytest.mark.parametrize('build, tag', [('rpath', 'rpath'), ('runpath', 'runpath')])
def test_origin_in_rpath_and_runpath(built, tmp_path, build, tag):
    root = fake_root(tmp_path)
    prog = install(built[build], root, '/opt/app/bin/prog')
    install(built['libdep.so.1'], root, '/opt/app/lib/libdep.so.1')
    info = elf.read_elf(str(prog))
    assert getattr(info, tag) == '$ORIGIN/../lib'
    assert getattr(info, {'rpath': 'runpath', 'runpath': 'rpath'}[tag]) is None
    plan = elf.resolve(['/opt/app/bin/prog'], root=str(root))
    assert_plan_is_the_host(plan, str(root))
    assert files(plan) == BASE_FILES | {'/opt/app/bin/prog', '/opt/app/lib/libdep.so.1'}
    assert image_realpath(plan, HOST_LDSO) == LIBDIR + '/ld-linux-x86-64.so.2'
    assert ldd(prog)['libdep.so.1'] == str(root) + '/opt/app/bin/../lib/libdep.so.1'


def test_the_programs_origin_has_its_symlinks_resolved(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['rpath'], root, '/opt/app/bin/prog')
    install(built['libdep.so.1'], root, '/opt/app/lib/libdep.so.1')
    (root / 'usr/bin/prog').symlink_to('/opt/app/bin/prog')
    plan = elf.resolve(['/bin/prog'], root=str(root))
    assert '/opt/app/lib/libdep.so.1' in files(plan)
    assert image_realpath(plan, '/bin/prog') == '/opt/app/bin/prog'


def test_rpath_is_inherited_runpath_is_not(built, tmp_path):
    root = fake_root(tmp_path)
    for build in ('top_rpath', 'top_runpath'):
        install(built[build], root, '/opt/app/bin/' + build)
    install(built['libtop.so'], root, '/opt/app/lib/libtop.so')
    install(built['libdep.so.1'], root, '/opt/app/lib/libdep.so.1')
    plan = elf.resolve(['/opt/app/bin/top_rpath'], root=str(root))
    assert {'/opt/app/lib/libtop.so', '/opt/app/lib/libdep.so.1'} <= files(plan)
    with pytest.raises(elf.ElfError, match='libdep.so.1 needed by /opt/app/bin/../lib/libtop.so not found'):
        elf.resolve(['/opt/app/bin/top_runpath'], root=str(root))
    # glibc agrees: the host loader finds libdep through an RPATH only.
    assert ldd(root / 'opt/app/bin/top_rpath')['libdep.so.1'] is not None
    assert ldd(root / 'opt/app/bin/top_runpath')['libdep.so.1'] is None


def test_a_missing_library_names_program_library_and_places(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['rpath'], root, '/opt/app/bin/prog')
    with pytest.raises(elf.ElfError) as e:
        elf.resolve(['/opt/app/bin/prog'], root=str(root))
    message = str(e.value)
    assert message.startswith('/opt/app/bin/prog: library libdep.so.1 needed by /opt/app/bin/prog not found')
    assert message.endswith('searched /opt/app/bin/../lib, /etc/ld.so.cache, /lib/x86_64-linux-gnu, '
                            '/usr/lib/x86_64-linux-gnu, /lib, /usr/lib')


def test_a_symlink_chain_is_kept_link_by_link(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['rpath'], root, '/opt/app/bin/prog')
    (root / 'opt/app/lib').rmdir()
    (root / 'opt/app/lib').symlink_to('libs')
    install(built['libdep.so.1'], root, '/opt/app/libs/real/libdep.so.1.0.0')
    (root / 'opt/app/libs/libdep.so.1').symlink_to('libdep.so.1.0')
    (root / 'opt/app/libs/libdep.so.1.0').symlink_to('/opt/app/libs/real/libdep.so.1.0.0')
    plan = elf.resolve(['/opt/app/bin/prog'], root=str(root))
    assert_plan_is_the_host(plan, str(root))
    entries = {e.path: e for e in plan}
    assert entries['/opt/app/lib'].target == 'libs'
    assert entries['/opt/app/libs/libdep.so.1'].target == 'libdep.so.1.0'
    assert entries['/opt/app/libs/libdep.so.1.0'].target == '/opt/app/libs/real/libdep.so.1.0.0'
    assert entries['/opt/app/libs/real/libdep.so.1.0.0'].source == str(root) + '/opt/app/libs/real/libdep.so.1.0.0'


@pytest.mark.parametrize('target, message', [
    ('libdep.so.1', 'symlink loop'),
    ('../../../../../lib/libdep.so.1', 'escapes the root'),
])
def test_symlink_loops_and_escapes_are_refused(built, tmp_path, target, message):
    root = fake_root(tmp_path)
    install(built['rpath'], root, '/opt/app/bin/prog')
    (root / 'opt/app/lib/libdep.so.1').symlink_to(target)
    with pytest.raises(elf.ElfError, match=message):
        elf.resolve(['/opt/app/bin/prog'], root=str(root))


def fake_32_bit(source, dest):
    """A copy of a library whose header says ELFCLASS32, as a 32-bit build would (no gcc -m32 here)."""
    data = bytearray(source.read_bytes())
    data[4] = 1
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(bytes(data))


def test_a_32_bit_library_in_the_path_is_skipped(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['rpath'], root, '/opt/app/bin/prog')
    fake_32_bit(built['libdep.so.1'], root / 'opt/app/lib/libdep.so.1')
    install(built['libdep.so.1'], root, LIBDIR + '/libdep.so.1')
    plan = elf.resolve(['/opt/app/bin/prog'], root=str(root))
    assert LIBDIR + '/libdep.so.1' in files(plan)
    assert '/opt/app/lib/libdep.so.1' not in files(plan)
    (root / LIBDIR.lstrip('/') / 'libdep.so.1').unlink()
    with pytest.raises(elf.ElfError, match=r'skipped, not ELF64 LSB x86-64: /opt/app/bin/../lib/libdep.so.1 \(ELF32'):
        elf.resolve(['/opt/app/bin/prog'], root=str(root))


def ldconfig(root):
    tool = shutil.which('ldconfig') or '/sbin/ldconfig'
    if not os.path.exists(tool):
        pytest.skip('ldconfig is not installed')
    subprocess.run([tool, '-r', str(root), '-X'], check=True)


def test_a_library_only_the_cache_knows_brings_the_cache(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['no_rpath'], root, '/usr/bin/prog')
    install(built['libdep.so.1'], root, '/opt/cachelib/libdep.so.1')
    (root / 'etc/ld.so.conf').write_text('/opt/cachelib\n')
    ldconfig(root)
    assert elf.read_ld_cache(str(root / 'etc/ld.so.cache'))['libdep.so.1'] == ('/opt/cachelib/libdep.so.1',)
    plan = elf.resolve(['/usr/bin/prog'], root=str(root))
    assert files(plan) == BASE_FILES | {'/usr/bin/prog', '/opt/cachelib/libdep.so.1', '/etc/ld.so.cache'}


def test_the_cache_stays_out_when_the_default_dirs_give_the_same(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['no_rpath'], root, '/usr/bin/prog')
    install(built['libdep.so.1'], root, LIBDIR + '/libdep.so.1')
    ldconfig(root)
    assert elf.read_ld_cache(str(root / 'etc/ld.so.cache'))['libdep.so.1'] == ('/lib/x86_64-linux-gnu/libdep.so.1',)
    plan = elf.resolve(['/usr/bin/prog'], root=str(root))
    assert files(plan) == BASE_FILES | {'/usr/bin/prog', LIBDIR + '/libdep.so.1'}


@pytest.mark.parametrize('content, message', [
    (b'garbage', 'not a glibc-ld.so.cache1.1'),
    (b'ld.so-1.7.0\0' + bytes(40), 'old "ld.so-1.7.0"'),
    (b'glibc-ld.so.cache1.1' + struct.pack('<IIB3xI12x', 1000, 0, 2, 0), 'do not fit'),
])
def test_a_damaged_cache_is_refused_by_the_reader_and_ignored_by_the_resolver(built, tmp_path, content, message):
    root = fake_root(tmp_path)
    install(built['plain'], root, '/usr/bin/prog')
    (root / 'etc/ld.so.cache').write_bytes(content)
    with pytest.raises(elf.ElfError, match=message):
        elf.read_ld_cache(str(root / 'etc/ld.so.cache'))
    assert files(elf.resolve(['/usr/bin/prog'], root=str(root))) == BASE_FILES | {'/usr/bin/prog'}


def test_nodefaultlib_keeps_the_loader_out_of_the_default_dirs(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['nodeflib'], root, '/usr/bin/prog')
    assert elf.read_elf(str(root / 'usr/bin/prog')).nodeflib
    with pytest.raises(elf.ElfError, match='libc.so.6 needed by /usr/bin/prog not found; searched /etc/ld.so.cache$'):
        elf.resolve(['/usr/bin/prog'], root=str(root))


def test_lib_and_platform_are_refused(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['lib_dst'], root, '/usr/bin/prog')
    with pytest.raises(elf.ElfError, match=r'DT_RUNPATH uses \$LIB'):
        elf.resolve(['/usr/bin/prog'], root=str(root))


def test_a_missing_interpreter_is_refused(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['plain'], root, '/usr/bin/prog')
    (root / LIBDIR.lstrip('/') / 'ld-linux-x86-64.so.2').unlink()
    with pytest.raises(elf.ElfError, match='interpreter of /usr/bin/prog: /lib64/ld-linux-x86-64.so.2: no such file'):
        elf.resolve(['/usr/bin/prog'], root=str(root))


# ---- scripts and files that are not programs ---------------------------------------------------

def test_a_sh_script_brings_its_interpreter(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['plain'], root, '/usr/bin/sh')
    script = root / 'opt/app/run.sh'
    script.write_text('#!/bin/sh -e\necho hello\n')
    plan = elf.resolve(['/opt/app/run.sh'], root=str(root))
    assert files(plan) == BASE_FILES | {'/opt/app/run.sh', '/usr/bin/sh'}
    assert image_realpath(plan, '/bin/sh') == '/usr/bin/sh'


def test_env_finds_its_program_in_the_fixed_path(built, tmp_path):
    root = fake_root(tmp_path)
    install(built['plain'], root, '/usr/bin/env')
    install(built['plain'], root, '/usr/local/sbin/tool', mode=0o644)  # not executable: env skips it
    install(built['plain'], root, '/usr/local/bin/tool')
    install(built['plain'], root, '/usr/bin/tool')
    (root / 'opt/app/run').write_text('#!/usr/bin/env tool\n')
    plan = elf.resolve(['/opt/app/run'], root=str(root))
    assert files(plan) == BASE_FILES | {'/opt/app/run', '/usr/bin/env', '/usr/local/bin/tool'}


@pytest.mark.parametrize('line, message', [
    ('#!/usr/bin/env -S tool -x\n', 'env options are not supported'),
    ('#!/usr/bin/env nosuchtool\n', 'nosuchtool .run by env. not found in /usr/local/sbin:'),
    ('#!sh\n', 'without an absolute interpreter path'),
    ('#!/opt/app/run\n', 'more than 5 levels'),
])
def test_scripts_that_cannot_run_are_refused(built, tmp_path, line, message):
    root = fake_root(tmp_path)
    install(built['plain'], root, '/usr/bin/env')
    (root / 'opt/app/run').write_text(line)
    with pytest.raises(elf.ElfError, match=message):
        elf.resolve(['/opt/app/run'], root=str(root))


def test_programs_must_be_a_list_of_absolute_paths(tmp_path):
    with pytest.raises(TypeError):
        elf.resolve('/usr/bin/bash')
    with pytest.raises(elf.ElfError, match="program 'usr/bin/bash': not an absolute path"):
        elf.resolve(['usr/bin/bash'])


def test_a_file_that_is_neither_elf_nor_script_is_refused(tmp_path):
    (tmp_path / 'notes.txt').write_text('just text\n')
    with pytest.raises(elf.ElfError, match='/notes.txt: neither an ELF file nor a #! script'):
        elf.resolve(['/notes.txt'], root=str(tmp_path))


@pytest.mark.parametrize('length', [30, 63, 200, 1000])
def test_a_truncated_elf_is_refused_cleanly(built, tmp_path, length):
    (tmp_path / 'prog').write_bytes(built['plain'].read_bytes()[:length])
    with pytest.raises(elf.ElfError, match='truncated ELF file'):
        elf.resolve(['/prog'], root=str(tmp_path))


def test_damaged_elf_files_give_elf_errors_never_tracebacks(built, tmp_path):
    original = built['plain'].read_bytes()
    rand = random.Random(12)
    damaged = tmp_path / 'damaged'
    for _round in range(300):
        data = bytearray(original)
        for _byte in range(rand.randint(1, 4)):
            data[rand.randrange(16, 1024)] = rand.randrange(256)
        damaged.write_bytes(bytes(data))
        try:
            elf.read_elf(str(damaged))
        except elf.ElfError:
            pass


# ---- the reader on all four ELF kinds --------------------------------------------------------------

def synthetic_elf(elf_class, order, machine):
    """A minimal ELF written independently of the reader: PT_LOAD, PT_INTERP, PT_DYNAMIC."""
    ehsize, phentsize, dynsize = (52, 32, 8) if elf_class == 32 else (64, 56, 16)
    base = 0x400000  # DT_STRTAB is an address: the reader must map it back through PT_LOAD
    interp = b'/lib/ld-test.so.1\0'
    strtab = b'\0libone.so.1\0libtwo.so.2\0$ORIGIN/../lib\0libthis.so.3\0'
    interp_off = ehsize + 3 * phentsize
    strtab_off = interp_off + len(interp)
    dyn_off = strtab_off + len(strtab)
    dynamic = [(1, strtab.index(b'libone')), (1, strtab.index(b'libtwo')), (15, strtab.index(b'$ORIGIN')),
               (14, strtab.index(b'libthis')), (5, base + strtab_off), (10, len(strtab)), (0, 0)]
    end = dyn_off + len(dynamic) * dynsize

    def phdr(kind, offset, size, vaddr):
        if elf_class == 32:
            return struct.pack(order + 'IIIIIIII', kind, offset, vaddr, vaddr, size, size, 4, 4)
        return struct.pack(order + 'IIQQQQQQ', kind, 4, offset, vaddr, vaddr, size, size, 8)

    header_format = 'HHIIIIIHHHHHH' if elf_class == 32 else 'HHIQQQIHHHHHH'
    ident = b'\x7fELF' + bytes([elf_class // 32, 1 if order == '<' else 2, 1]) + bytes(9)
    header = ident + struct.pack(order + header_format, 2, machine, 1, 0, ehsize, 0, 0, ehsize, phentsize, 3, 0, 0, 0)
    phdrs = phdr(1, 0, end, base) + phdr(3, interp_off, len(interp), base + interp_off) + \
        phdr(2, dyn_off, len(dynamic) * dynsize, base + dyn_off)
    entry = 'iI' if elf_class == 32 else 'qQ'
    return header + phdrs + interp + strtab + b''.join(struct.pack(order + entry, *d) for d in dynamic)


@pytest.mark.parametrize('elf_class, order, machine', [(32, '<', 3), (32, '>', 8), (64, '<', 62), (64, '>', 22)])
def test_the_reader_reads_both_classes_and_byte_orders(tmp_path, elf_class, order, machine):
    path = tmp_path / 'synthetic'
    path.write_bytes(synthetic_elf(elf_class, order, machine))
    assert elf.read_elf(str(path)) == elf.ElfInfo(
        identity=(elf_class, order, machine), interp='/lib/ld-test.so.1', needed=('libone.so.1', 'libtwo.so.2'),
        soname='libthis.so.3', rpath='$ORIGIN/../lib')
