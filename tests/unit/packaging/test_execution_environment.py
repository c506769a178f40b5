"""The built collection tells ansible-builder what an execution environment needs, and the EE
definition in docs/awx/ makes a build context (building the image needs a registry; the context does not)."""

import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
BIN = os.path.dirname(sys.executable)


def run(*argv, cwd):
    # As a user without this checkout on ANSIBLE_COLLECTIONS_PATH: there, ansible-galaxy would find
    # the collection already installed and install nothing.
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_COLLECTIONS_'))
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """The collection as a user gets it: built into a tarball, then installed from it."""
    work = tmp_path_factory.mktemp('ee')
    run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', ROOT, '--output-path', str(work), cwd=work)
    tarball = next(p for p in work.iterdir() if p.name.endswith('.tar.gz'))
    run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '-p', str(work / 'collections'), str(tarball),
        cwd=work)
    return work


def test_introspection_finds_gpg_and_python_libraries(installed):
    out = run(os.path.join(BIN, 'ansible-builder'), 'introspect', '--sanitize', str(installed / 'collections'),
              cwd=installed)
    data = yaml.safe_load(out)
    python = [line.split('#')[0].strip() for line in data['python']]
    system = [line.split('#')[0].strip() for line in data['system']]
    assert 'cryptography>=3.4.8' in python and 'python-gnupg>=0.5.0' in python
    assert 'gnupg [platform:dpkg]' in system and 'gnupg2 [platform:rpm]' in system
    # Lower bounds only: an exact pin here would conflict with other collections' requirements.
    assert not [req for req in python if '==' in req]


def test_awx_definition_makes_a_build_context(installed):
    context = installed / 'context'
    run(os.path.join(BIN, 'ansible-builder'), 'create', '-f', os.path.join(ROOT, 'docs', 'awx', 'execution-environment.yml'),
        '-c', str(context), cwd=installed)
    assert (context / 'Containerfile').is_file()
    requirements = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    assert [c['name'] for c in requirements['collections']] == ['aci.registry']
