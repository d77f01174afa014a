"""benchmarks/layouts.py runs end to end in smoke mode (tiny arrays, one round).

Only that it completes and reports every section and target is checked; speed is never
asserted (docs/performance.md).  ``--write-docs`` goes to a temporary copy of the docs.
"""

from __future__ import annotations

from pathlib import Path

from test_benchmarks_smoke import assert_only_blocks_changed, run_write_docs

TARGETS = 16  # 3 view axes x 2, dask x 2, accessor, Fortran and transposed x 2, float32 x 3


def test_layouts_benchmark_runs(tmp_path: Path):
    out, written = run_write_docs("layouts.py", tmp_path, "--smoke", "--runs", "2")
    for heading in ("viewed in", "dask from_array", "accessor on", "Fortran order", "transposed"):
        assert heading in out, out
    assert "float32 and float64" in out
    assert out.count("== targets (issue #14) ==") == 2 and "=== run 2 of 2 ===" in out
    for part in out.split("== targets (issue #14) ==")[1:]:
        targets = part.strip().split("\n\n")[0].splitlines()
        assert len(targets) == TARGETS
        assert all(float(line.split("target")[0].split()[-1]) > 0 for line in targets)
    (table,) = assert_only_blocks_changed(
        *written["docs/performance.md"],
        ("layouts-table",),
    ).values()
    (headline,) = assert_only_blocks_changed(*written["README.md"], ("layouts-headline",)).values()
    assert table in out and headline in out
    assert "runs: 2" in table and "load average" in table and "(12, 12, 16)" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 33  # the header, then every ratio, targets, peers and floors
    assert sum("<=" in r or ">=" in r for r in rows) == TARGETS
