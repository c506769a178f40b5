"""The reliability suite's figures: each test appends what it measured, `report.py` prints them.

One JSON object per line in ``$ACI_RELIABILITY_FIGURES`` (``make reliability`` sets it to
``.build/reliability/figures.jsonl`` and empties it first), so tests in separate pytest and
molecule runs add to one table. Outside ``make`` the variable is unset and nothing is written.
"""

import json
import os
import time


def record(section, item, value, unit='', ok=True):
    """Add one row: ``record('load while publishing', 'requests', 12034)``.

    ``ok`` is False for a figure that shows a failure (the test asserts as well; the row keeps the
    evidence in the table).
    """
    path = os.environ.get('ACI_RELIABILITY_FIGURES')
    if not path:
        return
    row = {'section': section, 'item': item, 'value': value, 'unit': unit, 'ok': bool(ok), 'time': time.time()}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # One write of a short line with O_APPEND: rows from parallel tests never interleave.
    with open(path, 'a') as f:
        f.write(json.dumps(row, sort_keys=True) + '\n')
