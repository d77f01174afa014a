"""benchmarks/overhead.py runs end to end in smoke mode (one round of two calls per case).

Only that it completes and reports is checked; speed is never asserted (docs/performance.md).
``--write-docs`` goes to a temporary copy of the docs.
"""

from __future__ import annotations

from pathlib import Path

from test_benchmarks_smoke import assert_only_blocks_changed, run_write_docs


def test_overhead_benchmark_runs(tmp_path: Path):
    out, written = run_write_docs("overhead.py", tmp_path, "--smoke")
    rows = [line for line in out.splitlines() if " / " in line and "|" not in line]
    assert len(rows) == 6
    for line in rows:
        ours, theirs, ratio = (float(v) for v in line.split()[-3:])
        assert ours > 0 and theirs > 0 and ratio > 0
    (table,) = assert_only_blocks_changed(
        *written["docs/performance.md"], ("overhead-table",)
    ).values()
    assert table in out and "runs: 1" in table
    assert "| xgrad.gradient / numpy.gradient, (50, 60), both axes |" in table
    assert written["README.md"][0] == written["README.md"][1]
