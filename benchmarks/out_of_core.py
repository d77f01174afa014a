"""Out of core: ``xgrad gradient`` on Zarr stores of growing size, against a plain Zarr copy.

For each size (GiB of float32 data) this script

1. writes a smooth, well-compressible float32 field ``f(time, y, x)`` to ``in.zarr`` (generated
   lazily with dask and written chunk by chunk, so generating it needs no memory either);
2. copies ``in.zarr`` to ``copy.zarr`` with the command's own reader and atomic writer (the
   same dask chunks, scheduler and codecs, no derivative): the I/O floor, read + decompress +
   compress + write;
3. runs the real command, ``python -m xgrad gradient in.zarr out.zarr --along x`` (one output
   variable, the same output volume as the copy) and ``--along y x`` (two outputs, one pass);

each step in a fresh subprocess whose peak resident memory is read from ``os.wait4`` (the
child's own ``ru_maxrss``), then deletes the stores before the next size. Throughput is GiB of
input per second; the ratio to the copy says what the derivatives cost beyond moving the data.
Free disk space is checked before each size; sizes that do not fit are skipped.

    python benchmarks/out_of_core.py --sizes 1 4 16 32 --dir /work/bench-ooc
    python benchmarks/out_of_core.py --smoke            # tiny, seconds: checks the script runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GiB = 2**30
NY, NX = 2048, 4096  # one time step = 32 MiB of float32: one chunk


def _generate(path: str, nt: int, ny: int, nx: int) -> None:
    """Child process: write the synthetic field to a Zarr store, chunk by chunk."""
    import dask
    import dask.array as da
    import numpy as np
    import xarray as xr

    def block(block_id: tuple[int, int, int]) -> np.ndarray:
        t = block_id[0]
        y = np.arange(ny, dtype=np.float32)[:, None]
        x = np.arange(nx, dtype=np.float32)[None, :]
        f = 280 + 20 * np.sin(x / 700 + 0.1 * t) * np.cos(y / 500) + 0.01 * y
        # keep 1/64 K resolution: smooth data that compresses like real model output
        return (np.round(f * 64) / 64).astype(np.float32)[None]

    data = da.map_blocks(block, dtype=np.float32, chunks=((1,) * nt, (ny,), (nx,)))
    ds = xr.Dataset(
        {"f": (("time", "y", "x"), data, {"units": "K", "long_name": "smooth field"})},
        coords={
            "y": ("y", np.arange(ny) * 1000.0, {"units": "m"}),
            "x": ("x", np.arange(nx) * 1000.0, {"units": "m"}),
        },
    )
    with dask.config.set(scheduler="threads"):
        ds.to_zarr(path, mode="w-", consolidated=True)


def _copy(src: str, dst: str) -> None:
    """Child process: the I/O floor, the command's own open and atomic write, no derivative."""
    from xgrad.cli.reading import open_input
    from xgrad.cli.schedulers import scheduler
    from xgrad.cli.writing import write_dataset

    with open_input(src) as ds, scheduler("threads") as compute:
        write_dataset(ds, dst, compute)


def _run(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, peak RSS of that process in GiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err}")
    return wall, usage.ru_maxrss * 1024 / GiB  # ru_maxrss is in KiB on Linux


def _du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / GiB


def _rm(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def bench_size(
    size_gib: float, work: Path, nyx: tuple[int, int], repeat: int = 1
) -> dict[str, float] | None:
    """Generate, copy and differentiate one size; None when the disk is too small."""
    ny, nx = nyx
    nt = max(1, round(size_gib * GiB / (ny * nx * 4)))
    raw = nt * ny * nx * 4 / GiB
    src, copy, out = work / "in.zarr", work / "copy.zarr", work / "out.zarr"
    _rm(src, copy, out)
    # The field compresses ~12x; check again once its real size on disk is known.
    free = shutil.disk_usage(work).free / GiB
    if 0.3 * raw + 2 > free:
        print(f"  {raw:.1f} GiB: skipped, {free:.0f} GiB of disk free")
        return None
    me = [sys.executable, __file__]
    row: dict[str, float] = {"size_gib": raw, "time_steps": nt}
    row["generate_s"], row["generate_rss_gib"] = _run(
        [*me, "_generate", str(src), str(nt), str(ny), str(nx)]
    )
    row["input_on_disk_gib"] = _du(src)
    free = shutil.disk_usage(work).free / GiB
    if 4 * row["input_on_disk_gib"] + 2 > free:  # a copy, then two derivatives, at a time
        print(f"  {raw:.1f} GiB: skipped, {free:.0f} GiB of disk free for the outputs")
        _rm(src)
        return None
    from xgrad.cli.reading import open_input

    with open_input(src) as ds:  # the chunks the command itself will use
        row["dask_chunk_mib"] = ds.f.data.chunksize[0] * ny * nx * 4 / 2**20
    xgrad = [sys.executable, "-m", "xgrad", "gradient", str(src), str(out)]
    steps = {
        "copy": ([*me, "_copy", str(src), str(copy)], copy),
        "grad_x": ([*xgrad, "--along", "x"], out),
        "grad_yx": ([*xgrad, "--along", "y", "x"], out),
    }
    for label, (cmd, target) in steps.items():
        runs = []
        for _ in range(repeat):  # the fastest run; the machine may be shared
            runs.append(_run(cmd))
            row[f"{label}_out_gib"] = _du(target)
            _rm(target)
        row[f"{label}_s"] = min(w for w, _ in runs)
        row[f"{label}_rss_gib"] = max(r for _, r in runs)
    _rm(src)
    return row


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_generate":
        _generate(argv[1], *map(int, argv[2:5]))
        return 0
    if argv and argv[0] == "_copy":
        _copy(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1, 4, 16], metavar="GIB")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    parser.add_argument("--repeat", type=int, default=1, help="runs per step (fastest kept)")
    args = parser.parse_args(argv)
    sizes, nyx = (args.sizes, (NY, NX)) if not args.smoke else ([0.001], (64, 128))
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB
    work = args.dir or Path(tempfile.mkdtemp(prefix="xgrad-ooc-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"xgrad out-of-core benchmark: {os.cpu_count()} cores, {ram:.1f} GiB RAM, "
        f"{platform.python_version()}, work dir {work}"
    )
    print(
        f"chunks (1, {nyx[0]}, {nyx[1]}) float32 = {nyx[0] * nyx[1] * 4 / 2**20:.0f} MiB; "
        "threads scheduler; peak RSS of each step's own process"
    )
    rows = []
    try:
        for size in sizes:
            row = bench_size(size, work, nyx, args.repeat)
            if row is None:
                continue
            rows.append(row)
            copy_rate = row["size_gib"] / row["copy_s"]
            print(
                f"\n  {row['size_gib']:.2f} GiB ({row['time_steps']:.0f} steps; "
                f"{row['input_on_disk_gib']:.2f} GiB on disk, dask chunks "
                f"{row['dask_chunk_mib']:.0f} MiB)"
            )
            print(f"    {'step':<26}{'wall s':>9}{'GiB/s':>8}{'vs copy':>9}{'peak RSS':>11}")
            for label, name in (
                ("copy", "zarr copy (I/O floor)"),
                ("grad_x", "xgrad --along x"),
                ("grad_yx", "xgrad --along y x"),
            ):
                wall, rss = row[f"{label}_s"], row[f"{label}_rss_gib"]
                rate = row["size_gib"] / wall
                print(
                    f"    {name:<26}{wall:>9.1f}{rate:>8.2f}{rate / copy_rate:>8.2f}x"
                    f"{rss:>9.2f} GiB"
                )
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
