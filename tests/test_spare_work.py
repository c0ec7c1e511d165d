"""The store of work arrays kept between large solves (fastopt._spare_work):
its contract, exactly."""
import threading
import time

import numpy as np
import pytest

from fastopt import _spare_work as S


@pytest.fixture(autouse=True)
def empty_store(monkeypatch):
    monkeypatch.setattr(S, "_FREE", [])


def test_take_gives_a_writable_float64_vector_of_at_least_size():
    for size in (1, 100, 10 ** 5):
        a = S.take(size)
        assert a.dtype == np.float64 and a.ndim == 1 and a.size == size
        assert a.flags.c_contiguous and a.flags.writeable
        a[:] = 1.5                   # the whole of it is usable
        assert a.sum() == 1.5 * size


def test_a_given_array_comes_back_for_a_smaller_or_equal_size():
    a = S.take(1000)
    S.give(a)
    assert S.take(1000) is a
    S.give(a)
    assert S.take(10) is a           # larger than asked for: callers slice


def test_a_taken_array_is_never_handed_out_twice():
    a = S.take(1000)
    S.give(a)
    first = S.take(500)
    second = S.take(500)             # a nested solve while first is in use
    assert first is a and second is not a


def test_too_small_arrays_are_not_used_and_the_smallest_fit_is():
    small, large = S.take(100), S.take(10 ** 4)
    S.give(small)
    S.give(large)
    c = S.take(1000)
    assert c is not small and c is large
    assert S.take(50) is small


def test_arrays_beyond_the_limits_are_not_kept(monkeypatch):
    monkeypatch.setattr(S, "MAX_ENTRIES", 1000)
    big = S.take(1001)
    S.give(big)
    assert S._FREE == []
    arrays = [S.take(s) for s in (400, 300, 200, 100, 50)]
    for a in arrays:
        S.give(a)
    # at most four arrays and MAX_ENTRIES in all, the largest kept
    assert [a.size for a in S._FREE] == [400, 300, 200, 100]
    S.give(S.take(600))
    assert [a.size for a in S._FREE] == [600, 400]


def test_concurrent_takes_never_share_an_array():
    for _ in range(8):
        S.give(S.take(1000))
    in_use = set()
    lock = threading.Lock()
    shared = []

    def worker():
        for _ in range(300):
            a = S.take(1000)
            with lock:
                if id(a) in in_use:
                    shared.append(id(a))
                in_use.add(id(a))
            a[:] = 1.0               # in use for a while
            time.sleep(0)
            with lock:
                in_use.discard(id(a))
            S.give(a)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shared == []
    assert len(S._FREE) <= 4
