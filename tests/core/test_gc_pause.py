"""``shoploop._gc.gc_paused``: the collector is off inside, restored after — also when
pauses nest, overlap across threads, raise, or the collector was already off."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from shoploop._gc import gc_paused


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:  # leave the collector as the test found it, whatever the test did
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after():
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_nested_pause_keeps_it_off_until_the_outer_one_ends():
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_exception_inside_still_restores_it():
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_a_collector_someone_else_disabled_stays_disabled():
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_in_two_threads_restore_it_once_both_end():
    # A enters, B enters, A leaves, B leaves: a plain save/disable/restore per pause would
    # leave the collector off for good (B saved "disabled" and restores that last).
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with gc_paused():
            a_in.set()
            assert b_in.wait(10)
        seen["after A left"] = gc.isenabled()
        a_out.set()

    def second() -> None:
        assert a_in.wait(10)
        with gc_paused():
            b_in.set()
            assert a_out.wait(10)
            seen["B still inside"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after A left": False, "B still inside": False}
    assert gc.isenabled()
