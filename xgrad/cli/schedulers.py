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

from .errors import InputError

__all__ = ["check_scheduler", "on_signal", "scheduler"]


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
        _settle_zarr_io()
    _check_stop()  # a signal during the last tasks: still do not let the output be committed


# How long the reads a failed task left behind on zarr's event loop may take to finish.
_SETTLE_TIMEOUT_S = 10.0


def _settle_zarr_io() -> None:
    """Wait until nothing runs on zarr's event loop (its reads and writes run there, zarr v3).

    zarr reads the chunks under one dask chunk with ``asyncio.gather``, which raises the first
    chunk's error (a corrupted chunk, say) and leaves the other reads running (gather does not
    cancel them). When the command then exits at once, zarr's atexit hook stops and closes the
    loop under them: "Task was destroyed but it is pending!" and "cannot schedule new futures
    after shutdown" tracebacks follow our one-line error (``test_corrupted_zarr_chunk_is_
    one_clean_line``). Called once no dask task runs any more, so whatever is still on the loop was
    left behind by a failed task; it is waited for (reads end quickly), and cancelled after
    ``_SETTLE_TIMEOUT_S`` (a remote store that stopped answering).
    """
    import asyncio

    sync = sys.modules.get("zarr.core.sync")  # not imported: zarr ran nothing in this process
    loop = getattr(sync, "loop", [None])[0]
    if loop is None or loop.is_closed() or not loop.is_running():
        return

    async def settle() -> None:
        this = asyncio.current_task()
        deadline = loop.time() + _SETTLE_TIMEOUT_S
        # Again until none is left: a task left behind can itself have left reads behind.
        while left := {t for t in asyncio.all_tasks() if t is not this}:
            if loop.time() >= deadline:
                for task in left:
                    task.cancel()
                await asyncio.wait(left, timeout=1.0)
                return
            done, _ = await asyncio.wait(left, timeout=deadline - loop.time())
            for task in done:  # their gather raised the first error; these are nobody's
                if not task.cancelled():
                    task.exception()

    try:
        asyncio.run_coroutine_threadsafe(settle(), loop).result(_SETTLE_TIMEOUT_S + 2)
    except Exception:  # the loop stopped meanwhile: nothing left to settle
        pass


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
    except Exception as err:
        lost = client.status != "running" or "scheduler-connection-lost" in str(err)
        try:
            client.cancel(future)
        except Exception:  # a scheduler that is gone cannot be told anything
            pass
        if lost:  # an audit: distributed's internal task key, or a lock's ConnectionResetError
            raise RuntimeError(
                f"the connection to the dask scheduler was lost during the computation "
                f"({type(err).__name__}); nothing was written at OUTPUT"
            ) from err
        raise
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


def check_scheduler(spec: str) -> str:
    """The scheduler's name (dask's aliases resolved); InputError for what can be none.

    Checks the name, or the form of an address, and that dask.distributed is installed when
    needed, without connecting: the command calls it before reading anything.

    Examples
    --------
    >>> check_scheduler("sync"), check_scheduler("threads")
    ('synchronous', 'threads')
    """
    spec = _ALIASES.get(spec, spec)
    if spec in ("threads", "synchronous"):
        return spec
    try:
        import distributed  # noqa: F401
    except ImportError as err:
        raise InputError(
            f"--scheduler {spec} needs dask.distributed; `pip install 'xgrad[distributed]'`"
        ) from err
    if spec != "processes":
        _check_address(spec)
    return spec


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
    xgrad.cli.errors.InputError
        ``spec`` is no scheduler name or address, or dask.distributed is missing.
    RuntimeError
        The scheduler at the address cannot be reached.
    """
    spec = check_scheduler(spec)
    with _deferring_signals():
        if spec in ("threads", "synchronous"):
            yield lambda delayed: _compute_local(delayed, scheduler=spec)
            return
        # the client's own logging (tracebacks of its reconnection attempts when the scheduler
        # dies, until it is closed) is quiet: the command says what failed in its one line (an
        # audit: 35 lines before it)
        with _quiet("distributed.client"), _distributed_client(spec) as client:
            yield lambda delayed: _compute_distributed(delayed, client=client)


# Seconds to reach a scheduler given by address (distributed retries a refused connection until
# then). A scheduler answers in milliseconds, across a WAN well under a second; an address that
# is wrong should not keep a command-line user waiting (distributed's default is 30 s).
_CONNECT_TIMEOUT_S = 2


def _not_an_address(spec: str, err: ValueError) -> InputError:
    return InputError(
        f"--scheduler {spec!r} is not threads, processes, synchronous or a scheduler address "
        f"like tcp://10.0.0.1:8786 ({err})"
    )


def _check_address(spec: str) -> None:
    """InputError when ``spec`` cannot be a distributed address, found before any Client exists."""
    from distributed.comm.addressing import get_address_host_port

    try:
        # the scheme (tcp when none), the host and the port: "bogus" has no port
        get_address_host_port(spec)
    except ValueError as err:
        raise _not_an_address(spec, err) from None


def _close_half_built_client(err: BaseException) -> None:
    """Close the Client whose constructor raised ``err``, now rather than in its ``__del__``.

    A Client that fails in its constructor has already started its event-loop thread, and
    distributed closes it only on connection errors. Otherwise (any other exception, or a
    second Ctrl-C while connecting) it stays "connecting" until garbage collection, which the
    exception's traceback (kept by ``raise ... from``) delays to interpreter exit; its
    ``__del__`` then waits for a loop that no longer runs, for twice the timeout, and prints a
    TimeoutError traceback after our one-line error. The constructor's frame in the traceback
    is the only reference to it.
    """
    import traceback

    from distributed import Client

    for frame, _ in traceback.walk_tb(err.__traceback__):
        client = frame.f_locals.get("self")
        if isinstance(client, Client) and frame.f_code is Client.__init__.__code__:
            try:
                client.close(timeout=_CONNECT_TIMEOUT_S)
            except Exception:  # closing a client that never connected: nothing to report
                pass
            return


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """The logger ``name`` says nothing below CRITICAL inside the block."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _distributed_client(spec: str) -> Iterator[Any]:
    import dask
    from distributed import Client, LocalCluster

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
            client = Client(spec, timeout=_CONNECT_TIMEOUT_S, set_as_default=False)
        except BaseException as err:
            _close_half_built_client(err)
            if isinstance(err, ValueError):  # an address form the check above let through
                raise _not_an_address(spec, err) from err
            if isinstance(err, OSError):  # TimeoutError is an OSError
                raise RuntimeError(
                    f"could not connect to the dask scheduler at {spec!r}: {err}"
                ) from err
            raise
    try:
        # xarray picks distributed-safe file locks when it builds the write graph inside this
        # block, because the configured scheduler is this client's.
        with client.as_current(), dask.config.set(scheduler=client.get):
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
