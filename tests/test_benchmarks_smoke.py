"""The benchmark script runs end to end in smoke mode (tiny arrays, one repeat).

Only that it completes and reports is checked; speed is never asserted (docs/performance.md).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_gradient.py"
# the files the benchmark scripts write their tables into; tests write only temporary copies
DOC_FILES = ("README.md", "docs/performance.md", "docs/guide/engines.md")


def run_write_docs(
    script: str, tmp_path: Path, *args: str
) -> tuple[str, dict[str, tuple[str, str]]]:
    """Run ``benchmarks/<script> --write-docs`` on a temporary copy of the docs.

    Returns its stdout and, per copied file, its text before and after; asserts that the
    script succeeded and that the real files were not touched.
    """
    real = {name: (ROOT / name).read_text() for name in DOC_FILES}
    for name, text in real.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    cmd = [sys.executable, str(ROOT / "benchmarks" / script), "--write-docs"]
    cmd += ["--docs-root", str(tmp_path), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {name: (ROOT / name).read_text() for name in DOC_FILES} == real
    return proc.stdout, {name: (real[name], (tmp_path / name).read_text()) for name in DOC_FILES}


def assert_only_blocks_changed(old: str, new: str, blocks: tuple[str, ...]) -> dict[str, str]:
    """Everything outside the named marker blocks is unchanged; each block's new text."""

    def split(text: str) -> tuple[str, dict[str, str]]:
        inside = {}
        for name in blocks:
            start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
            assert text.count(start) == 1 and text.count(end) == 1, name
            pattern = re.escape(start) + "(.*?)" + re.escape(end)
            inside[name] = re.search(pattern, text, re.S).group(1)
            text = text.replace(start + inside[name] + end, start + end)
        return text, inside

    old_outside, old_inside = split(old)
    new_outside, new_inside = split(new)
    assert new_outside == old_outside
    for name in blocks:
        assert new_inside[name] != old_inside[name], name
        assert new_inside[name].startswith("\n") and new_inside[name].endswith("\n"), name
    return {name: text.strip() for name, text in new_inside.items()}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, Path | None]:
    tmp = tmp_path_factory.mktemp("bench")
    out_json = tmp / "bench.json"
    args = ["--smoke", "--json", str(out_json)]
    png = None
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # the `viz` extra is not installed: run without the plot
        pass
    else:
        png = tmp / "throughput.png"
        args += ["--plot", str(png)]
    docs = tmp / "docs-copy"
    stdout, written = run_write_docs("bench_gradient.py", docs, *args)
    data = json.loads(out_json.read_text())
    data["written"] = written
    return stdout, data, png


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


def test_sphere_script_runs(tmp_path):
    """Two runs; --write-docs quotes min-max over them in a copy of the docs, nothing else."""
    stdout, written = run_write_docs("sphere.py", tmp_path, "--smoke", "--runs", "2")
    methods = ("x.map_blocks", "grad.along", "differentiate")
    rows = [line for line in stdout.splitlines() if line.startswith(methods)]
    assert len(rows) == 8 and all(float(r.split()[-1]) > 0 for r in rows)
    (table,) = assert_only_blocks_changed(
        *written["docs/performance.md"],
        ("operators-table",),
    ).values()
    (headline,) = assert_only_blocks_changed(
        *written["README.md"], ("operators-headline",)
    ).values()
    assert table in stdout and headline in stdout and "runs: 2" in table
    assert "load average" in table and "| dask: laplacian / " in table
    assert table.count("\n| ") == 1 + 2 + 2 * 4  # header, 2 reference rows, 4 operators x 2


def test_docs_table_is_written_between_markers(smoke):
    """--write-docs rewrote only the marked block of (copies of) README.md and performance.md."""
    stdout, data, _ = smoke
    for name in ("README.md", "docs/performance.md"):
        (table,) = assert_only_blocks_changed(*data["written"][name], ("bench-table",)).values()
        assert table in stdout
        assert table.count("\n| ") == 1 + len(data["cases"])  # header + one row per case


def test_write_block_needs_exactly_one_block(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import _docs
    finally:
        sys.path.pop(0)
    doc = tmp_path / "doc.md"
    doc.write_text("a\n<!-- t:start -->\nold\n<!-- t:end -->\nb\n")
    _docs.write_block(str(doc), "t", "new")
    assert doc.read_text() == "a\n<!-- t:start -->\nnew\n<!-- t:end -->\nb\n"
    doc.write_text("a\n<!-- t:end -->\n<!-- t:start -->\n")
    with pytest.raises(SystemExit, match="needs exactly one"):
        _docs.write_block(str(doc), "t", "new")


def test_expressions_benchmark_smoke(tmp_path):
    """benchmarks/expressions.py builds graphs in both dask modes and prints their ratio."""
    stdout, written = run_write_docs("expressions.py", tmp_path, "--smoke")
    assert "expressions / legacy" in stdout and "tasks 1.00x" in stdout
    name = "docs/guide/engines.md"
    (table,) = assert_only_blocks_changed(*written[name], ("expressions-table",)).values()
    assert "(1,000 chunks" in table


def test_gpu_benchmark_smoke(tmp_path):
    """benchmarks/gpu.py (issue #14's GPU check) runs with numpy standing in for cupy: every
    case timed, the values compared with the CPU's (bit-identical here), the target line."""
    out = tmp_path / "gpu.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--smoke", "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "standing in for cupy" in proc.stdout and "issue #14" in proc.stdout
    rows = json.loads(out.read_text())["rows"]
    cases = {(r["dtype"], r["case"]) for r in rows}
    assert cases == {
        (d, c)
        for d in ("float64", "float32")
        for c in ("axis 0", "axis 1", "axis 2", "axis 0 coord")
    }
    assert {r["values"] for r in rows} == {"bit-identical"}
    assert {r["dask values"] for r in rows} == {"bit-identical"}
    assert all(set(r["ms"]) >= {"copy", "xgrad", "dask copy", "dask xgrad"} for r in rows)
