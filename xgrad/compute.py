"""Running the command line's dask computations: scheduler choice, progress bar, interruption.

:func:`scheduler` yields a ``compute(delayed)`` function for dask's local schedulers, a local
``dask.distributed`` cluster, or a running distributed scheduler given by its address. A
progress bar is drawn when stderr is a terminal.

Interruption (Ctrl-C, SIGTERM) while :func:`scheduler` is active is deferred to the next task
boundary: raising ``KeyboardInterrupt`` in the middle of a task can cut a chunk write short
inside zarr's or netCDF's I/O, whose background threads then keep writing (and, for zarr, warn
at exit about coroutines never awaited) after the temporary output has been removed. The first
signal sets a flag; a dask callback raises before the next task starts and the running ones
finish. A second signal raises at once. Waiting on a distributed cluster is interrupted at
once (nothing is written by this process then); the futures are cancelled.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, redirect_stdout
from typing import Any

from .io import InputError

__all__ = ["on_signal", "scheduler"]


# dask's own names for its local schedulers are accepted too
_ALIASES = {
    "sync": "synchronous",
    "single-threaded": "synchronous",
    "threading": "threads",
    "multiprocessing": "processes",
}


class _Stop:
    """Process-wide state of a deferred interruption (signal handlers run in the main thread)."""

    deferring = False
    requested = False


def on_signal(signum: int, frame: Any) -> None:
    """Signal handler for SIGINT/SIGTERM: defer to a task boundary while computing, else raise."""
    if _Stop.deferring and not _Stop.requested:
        _Stop.requested = True
        return
    raise KeyboardInterrupt


def _check_stop() -> None:
    if _Stop.requested:
        raise KeyboardInterrupt


def _compute_local(delayed: Any, *, scheduler: str) -> None:
    import dask
    from dask.callbacks import Callback
    from dask.diagnostics import ProgressBar

    class StopBeforeTask(Callback):
        def _pretask(self, key: Any, dsk: Any, state: Any) -> None:  # in the calling thread
            _check_stop()

    bar = ProgressBar(out=sys.stderr) if sys.stderr.isatty() else nullcontext()
    # Our own pool rather than dask's shared one: on an error or interruption we wait for the
    # chunks already being written (dask only submits as many tasks as there are threads), so
    # the temporary output, removed next, stays removed.
    pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="xgrad")
    try:
        with bar, StopBeforeTask():
            if scheduler == "synchronous":
                dask.compute(delayed, scheduler="synchronous")
            else:
                dask.compute(delayed, scheduler="threads", pool=pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    _check_stop()  # a signal during the last tasks: still do not let the output be committed


def _compute_distributed(delayed: Any, *, client: Any) -> None:
    from distributed import progress

    _check_stop()
    future = client.compute(delayed)
    _Stop.deferring = False  # only waiting from here on: safe to interrupt anywhere
    try:
        if sys.stderr.isatty():
            with redirect_stdout(sys.stderr):  # distributed's text bar writes to stdout
                progress(future, notebook=False)
        future.result()
    except BaseException:
        client.cancel(future)
        raise
    finally:
        _Stop.deferring = True


@contextmanager
def _deferring_signals() -> Iterator[None]:
    _Stop.deferring, _Stop.requested = True, False
    try:
        yield
    finally:
        _Stop.deferring = _Stop.requested = False


@contextmanager
def scheduler(spec: str) -> Iterator[Callable[[Any], None]]:
    """Yield a ``compute(delayed)`` function running on the named dask scheduler.

    Parameters
    ----------
    spec : str
        ``"threads"`` or ``"synchronous"`` (dask's local schedulers); ``"processes"``: a local
        ``dask.distributed`` cluster with one single-threaded worker process per core (dask's
        plain multiprocessing scheduler cannot write NetCDF: xarray's file lock for it cannot be
        sent to the processes); anything else is the address of a running distributed scheduler
        (e.g. ``tcp://10.0.0.1:8786``), whose workers must see INPUT's and OUTPUT's paths.

    Raises
    ------
    xgrad.io.InputError
        ``spec`` is no scheduler name or address, or dask.distributed is missing.
    RuntimeError
        The scheduler at the address cannot be reached.
    """
    spec = _ALIASES.get(spec, spec)
    with _deferring_signals():
        if spec in ("threads", "synchronous"):
            yield lambda delayed: _compute_local(delayed, scheduler=spec)
            return
        with _distributed_client(spec) as client:
            yield lambda delayed: _compute_distributed(delayed, client=client)


@contextmanager
def _distributed_client(spec: str) -> Iterator[Any]:
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as err:
        raise InputError(
            f"--scheduler {spec} needs dask.distributed; `pip install 'xgrad[distributed]'`"
        ) from err
    # set_as_default=False: a Client that fails half-way through its constructor would
    # otherwise stay registered as dask's global scheduler. The client is made current only
    # below, once connected.
    cluster: Any = None
    if spec == "processes":
        cluster = LocalCluster(
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            # ":0": a free port; the scheduler runs an HTTP server even without a dashboard
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        try:
            client = Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
    else:
        try:
            client = Client(spec, timeout="10s", set_as_default=False)
        except ValueError as err:  # not an address at all: a usage error
            raise InputError(
                f"--scheduler {spec!r} is not threads, processes, synchronous or a scheduler "
                f"address like tcp://10.0.0.1:8786 ({err})"
            ) from err
        except OSError as err:  # TimeoutError is an OSError
            raise RuntimeError(
                f"could not connect to the dask scheduler at {spec!r}: {err}"
            ) from err
    try:
        # xarray picks distributed-safe file locks when it builds the write graph inside this
        # block, because the configured scheduler is this client's.
        with client.as_current(), dask.config.set(scheduler=client.get):
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
