"""Print the reliability suite's figures as one table (Markdown), grouped by section.

    python tests/reliability/report.py .build/reliability/figures.jsonl [--markdown OUT]

Exits non-zero when a row is marked not ok, or when there are no rows at all.
"""

import argparse
import json
import sys


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def _value(row):
    value = row['value']
    if isinstance(value, float):
        value = '%.3g' % value if abs(value) < 1000 else '%.0f' % value
    return ('%s %s' % (value, row.get('unit') or '')).strip()


def table(rows):
    sections = []
    for row in rows:
        if row['section'] not in sections:
            sections.append(row['section'])
    lines = ['| area | figure | value | |', '| --- | --- | --- | --- |']
    for section in sections:
        for row in (r for r in rows if r['section'] == section):
            lines.append('| %s | %s | %s | %s |' % (section, row['item'], _value(row), 'ok' if row['ok'] else '**FAIL**'))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('figures')
    parser.add_argument('--markdown', help='also write the table to this file')
    args = parser.parse_args(argv)
    try:
        rows = load(args.figures)
    except FileNotFoundError:
        rows = []
    if not rows:
        print('reliability: no figures in %s (did any test run?)' % args.figures, file=sys.stderr)
        return 1
    text = table(rows)
    print(text)
    if args.markdown:
        with open(args.markdown, 'w') as f:
            f.write(text + '\n')
    failed = [r for r in rows if not r['ok']]
    if failed:
        print('reliability: %d figure(s) show a failure' % len(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
