"""Runs the ``sh`` blocks of a markdown guide, in order, in one bash: the check that every
command the user guide shows works as written.

A block right after ``<!-- test: NAME -->`` depends on the reader's site (their hosts, their
upstream registry); the test's own text for NAME, from a YAML mapping given with
``--substitute``, runs in its place. Every other block runs exactly as the guide prints it.

    python tests/docs/guide.py docs/guide.md --substitute subs.yml --workdir DIR   # run it
    python tests/docs/guide.py docs/guide.md --list                              # the script
"""

import argparse
import os
import re
import subprocess
import sys

import yaml

_BLOCK = re.compile(r'(?:<!-- test: (?P<name>[\w-]+) -->\s*\n)?^```sh\n(?P<body>.*?)^```$', re.M | re.S)


def blocks(text):
    """``[(substitution name or None, body)]`` of the guide's ``sh`` blocks, in order."""
    return [(m.group('name'), m.group('body')) for m in _BLOCK.finditer(text)]


def script(text, substitutions, placeholders=False):
    """The bash script: the guide's blocks, the marked ones replaced (or, with ``placeholders``, a comment)."""
    parts = ['set -euo pipefail', 'set -x']
    for name, body in blocks(text):
        if name is None:
            parts.append(body)
        elif name in substitutions:
            parts.append('# (the test\'s own %s)\n%s' % (name, substitutions[name]))
        elif placeholders:
            parts.append('# (your %s)\n' % name)
        else:
            raise SystemExit('the guide marks a block "%s" but no substitution of that name was given' % name)
    return '\n'.join(parts) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('guide')
    parser.add_argument('--substitute', help='YAML mapping: block name -> the shell text that replaces it')
    parser.add_argument('--workdir', help='where the commands run (created if missing)')
    parser.add_argument('--list', action='store_true', help='print the script instead of running it')
    args = parser.parse_args(argv)
    with open(args.guide) as f:
        text = f.read()
    substitutions = {}
    if args.substitute:
        with open(args.substitute) as f:
            substitutions = yaml.safe_load(f) or {}
    body = script(text, substitutions, placeholders=args.list)
    if args.list:
        sys.stdout.write(body)
        return 0
    os.makedirs(args.workdir, exist_ok=True)
    return subprocess.run(['bash', '-c', body], cwd=args.workdir, check=False).returncode


if __name__ == '__main__':
    sys.exit(main())
