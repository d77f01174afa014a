"""benchmarks/kinematics.py runs end to end in smoke mode (tiny grid, one repeat).

Only that it completes and reports is checked; speed is never asserted (docs/performance.md).
``--write-docs`` goes to a temporary copy of the docs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from test_benchmarks_smoke import assert_only_blocks_changed, run_write_docs

METHODS = ("vector_gradient", "deformation", "advection", "frontogenesis")


def test_kinematics_benchmark_runs(tmp_path: Path):
    out, written = run_write_docs("kinematics.py", tmp_path, "--smoke")
    dask_part, memory_part = out.split("== in memory")
    assert "== dask" in dask_part
    rows = [line.split() for line in dask_part.splitlines() if line.startswith(METHODS)]
    assert [r[0] for r in rows] == list(METHODS)
    assert all(float(r[1]) > 0 and float(r[2]) > 0 and float(r[3]) > 0 for r in rows)
    memory_part = memory_part.split("load average at end")[0]
    rows = [line.split() for line in memory_part.splitlines() if line.startswith(METHODS)]
    assert [r[0] for r in rows] == list(METHODS) and all(float(r[1]) > 0 for r in rows)
    (table,) = assert_only_blocks_changed(
        *written["docs/performance.md"],
        ("kinematics-table",),
    ).values()
    (headline,) = assert_only_blocks_changed(
        *written["README.md"], ("kinematics-headline",)
    ).values()
    assert table in out and headline in out and "runs: 1" in table
    assert all(f"| dask: {m} / its derivatives |" in table for m in METHODS)
    if importlib.util.find_spec("metpy") is None:
        return
    assert all(float(r[2]) > 0 and float(r[3]) > 0 for r in rows)
    assert all(f"| numpy: MetPy / xgrad, {m} |" in table for m in METHODS)
    # advection has no metric term: MetPy's numbers to rounding, even on the smoke grid
    advection = next(r for r in map(str.split, memory_part.splitlines()) if r[:1] == ["advection"])
    assert float(advection[-1]) < 1e-10
