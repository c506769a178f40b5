"""The user guide's script: what the sample scenario runs, checked without hosts."""

import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'docs'))

import guide  # noqa: E402  pylint: disable=wrong-import-position


def read(*parts):
    with open(os.path.join(ROOT, *parts)) as f:
        return f.read()


def test_the_guide_installs_the_version_galaxy_yml_builds():
    version = yaml.safe_load(read('galaxy.yml'))['version']
    first = guide.blocks(read('docs', 'guide.md'))[0][1]
    assert 'ansible-galaxy collection install aci-registry-%s.tar.gz' % version in first


def test_only_the_site_specific_blocks_are_replaced_and_the_scenario_replaces_them():
    names = [name for name, dummy in guide.blocks(read('docs', 'guide.md')) if name]
    assert names == ['hosts', 'upstream']
    side_effect = read('molecule', 'sample', 'side_effect.yml')
    assert "'hosts': hosts_block, 'upstream': upstream_block" in side_effect


def test_a_marked_block_without_its_substitution_is_refused():
    try:
        guide.script('<!-- test: hosts -->\n```sh\necho mine\n```\n', {})
    except SystemExit as e:
        assert 'no substitution' in str(e)
    else:
        raise AssertionError('a marked block ran without a substitution')


def test_the_script_is_valid_bash():
    listed = subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'docs', 'guide.py'),
                             os.path.join(ROOT, 'docs', 'guide.md'), '--list'],
                            capture_output=True, text=True, check=True).stdout
    assert listed.startswith('set -euo pipefail\n')
    subprocess.run(['bash', '-n'], input=listed, text=True, check=True)
