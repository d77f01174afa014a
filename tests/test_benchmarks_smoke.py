"""The benchmark script runs end to end in smoke mode (tiny arrays, one repeat).

Only that it completes and reports is checked; speed is never asserted (docs/performance.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gradient.py"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, Path | None]:
    tmp = tmp_path_factory.mktemp("bench")
    out_json = tmp / "bench.json"
    cmd = [sys.executable, str(SCRIPT), "--smoke", "--json", str(out_json)]
    png = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # the `viz` extra is not installed: run without the plot
        pass
    else:
        png = tmp / "throughput.png"
        cmd += ["--plot", str(png)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, json.loads(out_json.read_text()), png


def test_prints_ratio_table(smoke):
    stdout, _, _ = smoke
    for heading in (
        "d/d(axis 0), unit spacing",
        "d/d(axis 2), unit spacing",
        "d/d(axis 0), non-uniform coordinate",
        "all 3 axes, unit spacing",
    ):
        assert f"== {heading} ==" in stdout
    assert "time /" in stdout and "speed-up" in stdout
    for label in ("a.copy()", "numpy.gradient", "dask.array.gradient", "xgrad.gradient"):
        assert label in stdout
    for section in ("dask graph size", "graph construction", "peak memory", "== targets =="):
        assert section in stdout
    assert "failed:" not in stdout


def test_json_has_raw_numbers(smoke):
    _, data, _ = smoke
    assert set(data["cases"]) == {"axis0", "axis2", "axis0-nonuniform", "all3"}
    for res in data["cases"].values():
        assert not res["errors"]
        for key in ("copy", "numpy", "dask", "xgrad", "xgrad-dask", "dask-copy"):
            assert len(res["times"][key]) == 1 and res["times"][key][0] > 0
        assert res["tasks"]["xgrad-dask"] > 0 and res["tasks"]["dask"] > 0
    assert {row["tasks"] for row in data["graph_build"]["rows"].values()}
    assert data["memory"]["xgrad-dask"]["input_plus_outputs_bytes"] == 4 * 8 * 32**3
    assert len(data["targets"]) == 6


def test_plot_written(smoke):
    _, data, png = smoke
    if png is None:
        pytest.skip("matplotlib not installed")
    assert png.stat().st_size > 0
    assert len(data["sweep"]) == 2


def test_replot_from_json(smoke, tmp_path):
    _, data, png = smoke
    if png is None:
        pytest.skip("matplotlib not installed")
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(data))
    again = tmp_path / "again.png"
    cmd = [sys.executable, str(SCRIPT), "--replot", str(saved), "--plot", str(again)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert again.stat().st_size > 0


def test_sphere_script_runs():
    script = SCRIPT.parent / "sphere.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--smoke"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    methods = ("x.map_blocks", "grad.along", "differentiate")
    rows = [line for line in proc.stdout.splitlines() if line.startswith(methods)]
    assert len(rows) == 4 and all(float(r.split()[-1]) > 0 for r in rows)


def test_docs_table_is_written_between_markers(smoke, tmp_path):
    """--write-docs rewrites only the marked block of README.md and docs/performance.md."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import bench_gradient
    finally:
        sys.path.pop(0)
    _, data, _ = smoke
    table = bench_gradient.headline_table(data["cases"], data["info"])
    assert table.count("\n| ") == 1 + len(data["cases"])  # header + one row per case
    start, end = bench_gradient.DOC_MARKERS
    (tmp_path / "docs").mkdir()
    for name in bench_gradient.DOC_FILES:
        (tmp_path / name).write_text(f"before\n{start}\nold numbers\n{end}\nafter\n")
    bench_gradient.write_docs(table, str(tmp_path))
    for name in bench_gradient.DOC_FILES:
        assert (tmp_path / name).read_text() == f"before\n{start}\n{table}\n{end}\nafter\n"


def test_expressions_benchmark_smoke():
    """benchmarks/expressions.py builds graphs in both dask modes and prints their ratio."""
    script = SCRIPT.parent / "expressions.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--smoke"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "expressions / legacy" in proc.stdout and "tasks 1.00x" in proc.stdout
