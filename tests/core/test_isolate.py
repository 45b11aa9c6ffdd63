"""Work run in a child process: its answer whatever its size, a time limit that kills, a death reported."""

import os
import time

import pytest

from loadbay.core.isolate import ChildDied, TimedOut, run_isolated


def big_answer(n: int) -> str:
    return "x" * n


def too_slow() -> None:
    time.sleep(30)


def dies() -> None:
    os._exit(3)


async def test_an_answer_larger_than_the_pipe_buffer_arrives_whole() -> None:
    # Far more than a pipe holds (64 KiB): the answer is read in parts as the child writes it.
    assert await run_isolated(big_answer, 8 << 20, limit=60) == "x" * (8 << 20)


async def test_a_child_past_its_limit_is_killed() -> None:
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await run_isolated(too_slow, limit=0.5)
    assert time.monotonic() - started < 20


async def test_a_child_that_dies_is_reported() -> None:
    with pytest.raises(ChildDied):
        await run_isolated(dies, limit=30)
