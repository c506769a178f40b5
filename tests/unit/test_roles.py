"""The roles' contracts: README variables generated from the argument specs, defaults and specs
in agreement, every variable a role reads declared, documented handler topics handled and
notified, per-OS variables read in one order."""

import importlib.util
import os
import re

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
_spec = importlib.util.spec_from_file_location('readme', os.path.join(ROOT, 'tests', 'roles', 'readme.py'))
readme = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme)

ROLES = readme.role_names()
HEADINGS = ['What it does', 'Requirements', 'Variables', 'Handler topics', 'Facts it sets', 'Example', 'Tests']
OS_FILES = [
    "{{ ansible_facts['distribution'] }}-{{ ansible_facts['distribution_major_version'] }}.yml",
    "{{ ansible_facts['distribution'] }}.yml",
    "{{ ansible_facts['os_family'] }}.yml",
    'default.yml',
]


def role_file(role, *parts):
    return os.path.join(readme.ROLES, role, *parts)


def text(path):
    with open(path) as f:
        return f.read()


def yaml_files(role, folder):
    folder = role_file(role, folder)
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith('.yml'))


def load(path):
    return yaml.safe_load(text(path))


def walk(data):
    """Every dict in a YAML document, nested ones (blocks, vars) included."""
    if isinstance(data, dict):
        yield data
        values = data.values()
    elif isinstance(data, list):
        values = data
    else:
        return
    for value in values:
        yield from walk(value)


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_every_role_has_argument_specs():
    assert ROLES == sorted(os.listdir(readme.ROLES))


@pytest.mark.parametrize('role', ROLES)
def test_readme_variables_are_generated_from_the_argument_specs(role):
    assert readme.problems(role) == []


@pytest.mark.parametrize('role', ROLES)
def test_readme_has_the_common_structure(role):
    content = re.sub(r'(?ms)^```.*?^```$', '', text(readme.readme_path(role)))
    assert content.startswith('# aci.registry.%s\n' % role)
    assert re.findall(r'(?m)^## (.*)$', content) == HEADINGS
    variables = content.split('\n## Variables\n', 1)[1].split('\n## ', 1)[0]
    assert readme.BEGIN in variables


@pytest.mark.parametrize('role', ROLES)
def test_defaults_are_the_argument_specs_defaults(role):
    options = readme.options(role)
    defaults = load(role_file(role, 'defaults', 'main.yml')) or {}
    assert sorted(set(defaults) - set(options)) == [], 'defaults/main.yml sets variables the specs do not declare'
    for name, spec in options.items():
        if spec.get('required'):
            # A required variable's placeholder in defaults/main.yml lets the role's own assert explain it.
            assert 'default' not in spec, name
        else:
            assert name in defaults, '%s is declared but defaults/main.yml does not set it' % name
            assert spec.get('default') == defaults[name], name


def _used_variables(role):
    """Public variables of the role that its tasks, handlers, vars and templates read."""
    prefix = re.compile(r'(?<![\w.$])%s_\w+' % role)
    found = set()
    for folder in ('tasks', 'handlers', 'vars'):
        for path in yaml_files(role, folder):
            found.update(prefix.findall(text(path)))
    templates = role_file(role, 'templates')
    for name in sorted(os.listdir(templates)) if os.path.isdir(templates) else []:
        # Only the Jinja parts: nginx has directives such as server_name.
        for block in re.findall(r'{[{%](.*?)[}%]}', text(os.path.join(templates, name)), re.S):
            found.update(prefix.findall(block))
    return found


def _exported_facts(role):
    facts = set()
    for path in yaml_files(role, 'tasks'):
        for task in walk(load(path)):
            facts.update(name for name in task.get('ansible.builtin.set_fact') or {} if not name.startswith('__'))
    return facts


@pytest.mark.parametrize('role', ROLES)
def test_every_variable_a_role_reads_is_declared_and_every_declared_one_is_read(role):
    declared, used, facts = set(readme.options(role)), _used_variables(role), _exported_facts(role)
    assert sorted(used - declared - facts) == [], 'read but not in meta/argument_specs.yml'
    assert sorted(declared - used) == [], 'in meta/argument_specs.yml but never read'


def _handlers():
    for role in ROLES:
        for path in yaml_files(role, 'handlers'):
            for handler in load(path) or []:
                yield role, handler


def _notified():
    topics = set()
    for role in ROLES:
        for path in yaml_files(role, 'tasks') + yaml_files(role, 'handlers'):
            for task in walk(load(path)):
                topics.update(as_list(task.get('notify') or []))
    return topics


def _documented_topics(role):
    """Topics (``aci.registry`` and lowercase words) the README's prose or the specs' markup name."""
    prose = text(readme.readme_path(role))
    prose = prose[:prose.find(readme.BEGIN)] + prose[prose.find(readme.END):]
    topics = set(re.findall(r'`(aci\.registry [a-z ]+)`', prose))
    return topics | set(re.findall(r'C\((aci\.registry [a-z ]+)\)', text(readme.spec_path(role))))


def test_documented_handler_topics_are_handled_and_notified():
    listened = set(topic for role, handler in _handlers() for topic in as_list(handler.get('listen') or []))
    notified = _notified()
    documented = set(topic for role in ROLES for topic in _documented_topics(role))
    assert documented, 'no README documents a handler topic: is the pattern still right?'
    assert sorted(documented - listened) == [], 'documented, but no handler listens to it'
    assert sorted(documented - notified) == [], 'documented, but no task notifies it'


@pytest.mark.parametrize('role', ROLES)
def test_topics_a_role_listens_to_are_in_its_readme(role):
    listened = set(topic for owner, handler in _handlers() if owner == role
                   for topic in as_list(handler.get('listen') or []))
    assert sorted(listened - _documented_topics(role)) == []


@pytest.mark.parametrize('role', ROLES)
def test_per_os_variables_are_read_in_the_one_order_not_included(role):
    paths = yaml_files(role, 'tasks')
    including = [task.get('name') for path in paths for task in walk(load(path))
                 if {'include_vars', 'ansible.builtin.include_vars'} & set(task)]
    assert including == [], 'included vars outlive the role call: read them as ca_trust does'
    tasks = ''.join(text(path) for path in paths)
    per_os = [path for path in yaml_files(role, 'vars') if os.path.basename(path) != 'main.yml']
    if per_os:
        assert load(role_file(role, 'vars', 'main.yml')).get('__%s_os_files' % role) == OS_FILES
        assert "lookup('ansible.builtin.first_found', files=__%s_os_files" % role in tasks


def _shape(spec):
    """What validation depends on in an argument spec: each option's type, elements and sub-options."""
    return {name: (option.get('type', 'str'), option.get('elements'), _shape(option.get('options') or {}))
            for name, option in spec.items()}


def test_publish_images_manifest_takes_what_aci_build_takes():
    # The role passes item.manifest to aci_build as it is: both must accept the same fields.
    from ansible_collections.aci.registry.plugins.module_utils import build
    with open(role_file('publish', 'meta', 'argument_specs.yml')) as f:
        images = yaml.safe_load(f)['argument_specs']['main']['options']['publish_images']
    assert _shape(images['options']['manifest']['options']) == _shape(build.manifest_argument_spec())
