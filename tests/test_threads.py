"""The kept worker pool (xgrad.threads): every piece runs, errors wait for the others, a
forked child makes its own pool."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import numpy as np
import pytest

from xgrad import threads


def test_every_piece_runs_once_first_on_the_caller():
    seen: dict[int, str] = {}

    def work(i):
        seen[i] = threading.current_thread().name

    threads.in_parallel(work, list(range(7)))
    assert sorted(seen) == list(range(7))
    assert seen[0] == threading.current_thread().name
    if threads.cpu_threads() > 1:
        assert any(name.startswith("xgrad") for name in seen.values())


def test_error_raised_after_every_piece_is_done():
    done = []

    def work(i):
        if i == 0:
            raise ValueError("piece 0")
        time.sleep(0.05)
        done.append(i)

    with pytest.raises(ValueError, match="piece 0"):
        threads.in_parallel(work, [0, 1, 2])
    assert sorted(done) == [1, 2]  # nothing still writing when the error reaches the caller

    def late(i):
        if i == 2:
            raise RuntimeError("piece 2")

    with pytest.raises(RuntimeError, match="piece 2"):
        threads.in_parallel(late, [0, 1, 2])


def _child(queue):
    out = np.zeros(4)

    def work(i):
        out[i] = i + 1

    threads.in_parallel(work, [0, 1, 2, 3])
    queue.put(out.tolist())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_a_forked_child_makes_its_own_pool():
    threads.in_parallel(lambda i: None, [0, 1])  # the parent's pool exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == [1.0, 2.0, 3.0, 4.0]
