"""The variables section of every role README, generated from the role's meta/argument_specs.yml.

    python tests/roles/readme.py [--write] [ROLE ...]

Without --write it checks: it exits 1 naming each role whose README section differs from its
argument specs, with the difference. --write rewrites the section, between the marker lines
BEGIN and END below, and leaves the rest of the README (the hand-written prose) alone.
"""

import argparse
import difflib
import json
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ROLES = os.path.join(ROOT, 'roles')
BEGIN = '<!-- BEGIN variables: generated from meta/argument_specs.yml by tests/roles/readme.py --write -->'
END = '<!-- END variables -->'

# Ansible's documentation markup, and what it becomes: code, emphasis or a link.
_MARKUP = re.compile(r'(?<![A-Za-z])(O|V|C|M|E|P|RV|I|B|U|L)\(((?:[^()]|\([^()]*\))*)\)')
_CODE = ('O', 'V', 'C', 'M', 'E', 'P', 'RV')


def role_names():
    return sorted(name for name in os.listdir(ROLES) if os.path.isfile(spec_path(name)))


def spec_path(role):
    return os.path.join(ROLES, role, 'meta', 'argument_specs.yml')


def readme_path(role):
    return os.path.join(ROLES, role, 'README.md')


def options(role):
    """The options of the role's main entry point, in the order the specs list them."""
    with open(spec_path(role)) as f:
        specs = (yaml.safe_load(f) or {}).get('argument_specs') or {}
    if set(specs) != {'main'}:
        raise ValueError('%s: readme.py renders the entry point main alone, the specs have %s'
                         % (spec_path(role), ', '.join(sorted(specs)) or 'none'))
    return specs['main'].get('options') or {}


def _plain(text):
    # '<' would open an HTML tag on GitHub; '|' would end the table cell.
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('|', '\\|')


def _code(text):
    return '`%s`' % text.replace('|', '\\|')


def markup(text):
    """One table cell of markdown from Ansible-marked-up text (its lines joined)."""
    text = ' '.join(str(text).split())
    out, at = [], 0
    for m in _MARKUP.finditer(text):
        out.append(_plain(text[at:m.start()]))
        kind, body = m.groups()
        if kind in _CODE:
            out.append(_code(body))
        elif kind == 'I':
            out.append('*%s*' % _plain(body))
        elif kind == 'B':
            out.append('**%s**' % _plain(body))
        elif kind == 'U':
            out.append('<%s>' % body)
        else:
            label, url = body.rsplit(',', 1) if ',' in body else (body, body)
            out.append('[%s](%s)' % (_plain(label.strip()), url.strip()))
        at = m.end()
    out.append(_plain(text[at:]))
    return ''.join(out)


def _scalar(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return 'null'
    if not isinstance(value, str):
        return str(value)
    plain = yaml.safe_dump(value, width=float('inf')).rstrip('\n')
    if plain.endswith('\n...'):
        plain = plain[:-4]
    # Double quotes wherever YAML needs quotes, as the roles' own YAML writes them.
    return json.dumps(value) if plain[:1] in ('"', "'") or '\n' in plain else plain


def flow(value):
    """A value as YAML flow text: what a user writes in a vars file."""
    if isinstance(value, dict):
        return '{%s}' % ', '.join('%s: %s' % (_scalar(k), flow(v)) for k, v in value.items())
    if isinstance(value, list):
        return '[%s]' % ', '.join(flow(v) for v in value)
    return _scalar(value)


def _type(spec):
    kind = spec.get('type', 'str')
    if kind == 'list' and spec.get('elements'):
        kind = 'list of %s' % spec['elements']
    return kind + (' (no_log)' if spec.get('no_log') else '')


def _description(spec):
    paragraphs = spec.get('description') or []
    if isinstance(paragraphs, str):
        paragraphs = [paragraphs]
    return '<br><br>'.join(markup(p) for p in paragraphs)


def rows(opts, prefix=''):
    """``(name, spec)`` for each option and, below it, each of its nested options."""
    for name, spec in opts.items():
        full = prefix + name
        yield full, spec
        if spec.get('options'):
            inner = full + ('[].' if spec.get('type') == 'list' else '.')
            yield from rows(spec['options'], inner)


def _row(name, spec):
    choices = spec.get('choices') or []
    return '| %s |' % ' | '.join([
        _code(name),
        _type(spec),
        'yes' if spec.get('required') else '',
        _code(flow(spec['default'])) if 'default' in spec else '',
        ', '.join(_code(flow(c)) for c in choices),
        _description(spec),
    ])


def section(role):
    """The generated section, marker lines included."""
    lines = [
        BEGIN,
        'All variables of `meta/argument_specs.yml`, which the role validates its input against '
        '(`ansible-doc -t role aci.registry.%s`):' % role,
        '',
        '| variable | type | required | default | choices | description |',
        '| --- | --- | --- | --- | --- | --- |',
    ]
    lines.extend(_row(name, spec) for name, spec in rows(options(role)))
    lines.append(END)
    return '\n'.join(lines) + '\n'


def _rel(path):
    return os.path.relpath(path, ROOT)


def rendered(role):
    """``(current README text, README text with a fresh section)``; ValueError without markers."""
    with open(readme_path(role)) as f:
        text = f.read()
    start, end = text.find(BEGIN + '\n'), text.find(END + '\n')
    if start < 0 or end < start:
        raise ValueError('%s has no generated variables section: put the lines\n  %s\n  %s\nunder its '
                         '"## Variables" heading and run python tests/roles/readme.py --write %s'
                         % (_rel(readme_path(role)), BEGIN, END, role))
    return text, text[:start] + section(role) + text[end + len(END) + 1:]


def problems(role):
    """What is wrong with the role's README section, as messages; empty when it is up to date."""
    try:
        current, fresh = rendered(role)
    except ValueError as e:
        return [str(e)]
    if current == fresh:
        return []
    diff = difflib.unified_diff(current.splitlines(), fresh.splitlines(), 'README.md', 'from argument_specs.yml',
                                lineterm='', n=0)
    return ['%s: the variables section differs from %s; run python tests/roles/readme.py --write %s\n%s'
            % (_rel(readme_path(role)), _rel(spec_path(role)), role, '\n'.join(diff))]


def write(role):
    """Rewrite the role's section; True when the README changed."""
    current, fresh = rendered(role)
    if current == fresh:
        return False
    tmp = readme_path(role) + '.tmp'
    with open(tmp, 'w') as f:
        f.write(fresh)
    os.replace(tmp, readme_path(role))
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--write', action='store_true', help='rewrite the sections instead of checking them')
    parser.add_argument('roles', nargs='*', metavar='ROLE', help='roles to look at (default: every role)')
    args = parser.parse_args(argv)
    known = role_names()
    unknown = sorted(set(args.roles) - set(known))
    if unknown:
        parser.error('no role %s in %s; the roles are %s' % (', '.join(unknown), _rel(ROLES), ', '.join(known)))
    failed = False
    for role in args.roles or known:
        try:
            if args.write:
                if write(role):
                    print('rewrote %s' % _rel(readme_path(role)))
                continue
            for problem in problems(role):
                failed = True
                print(problem, file=sys.stderr)
        except ValueError as e:
            failed = True
            print(e, file=sys.stderr)
        except (OSError, yaml.YAMLError) as e:
            failed = True
            print('%s: %s' % (role, e), file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
