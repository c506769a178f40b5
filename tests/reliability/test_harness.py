"""The suite's own plumbing: figures reach the table."""

import json

import figures
import report


def test_figures_reach_the_table(tmp_path, monkeypatch):
    path = tmp_path / 'figures.jsonl'
    monkeypatch.setenv('ACI_RELIABILITY_FIGURES', str(path))
    figures.record('faults', 'nginx master kill -9, gap', 1.25, 's')
    figures.record('faults', 'torn files', 1, ok=False)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r['item'] for r in rows] == ['nginx master kill -9, gap', 'torn files']
    text = report.table(rows)
    assert '| faults | nginx master kill -9, gap | 1.25 s | ok |' in text
    assert '**FAIL**' in text
    assert report.main([str(path)]) == 1


def test_no_figures_is_a_failure(tmp_path):
    assert report.main([str(tmp_path / 'missing.jsonl')]) == 1
