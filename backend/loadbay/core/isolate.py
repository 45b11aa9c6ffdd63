"""Run CPU-bound work on untrusted input in a child process, with a wall-clock limit.

A worker thread is not enough for that: it shares the interpreter lock with the event loop, and a
thread parsing a hostile file for a second makes every request of that second wait for the lock
again and again. A child process shares nothing; the loop only watches the pipe the answer comes
back on, and kills the child when the limit passes.

Children are forked from a forkserver (started once, from a fresh interpreter, never from the
threaded server process), with the modules named in ``PRELOAD`` already imported, so that each
run costs a fork rather than an interpreter start.
"""

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

PRELOAD = ["loadbay.imports.upload"]
CHILD_NICENESS = 10

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def start_server() -> None:
    """Start the forkserver now (it imports PRELOAD), so that the first run does not pay for it."""
    proc = _context.Process(target=_nothing)
    proc.start()
    proc.join()


def _nothing() -> None:
    pass


class TimedOut(Exception):
    """The child did not answer within the limit; it has been killed."""


class ChildDied(Exception):
    """The child stopped without answering (killed, out of memory, crashed)."""


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    # Below the server in priority: on a busy machine the requests get the CPU first.
    os.nice(CHILD_NICENESS)
    try:
        conn.send(fn(*args))
    finally:
        conn.close()


async def run_isolated(fn: Callable[..., Any], *args: Any, limit: float) -> Any:
    """``fn(*args)`` in a child process; its return value (which must pickle), or TimedOut / ChildDied.

    ``fn`` should return its failures as values: an exception raised in the child is ChildDied here.
    """
    loop = asyncio.get_running_loop()
    receiver, sender = _context.Pipe(duplex=False)
    proc = _context.Process(target=_child, args=(sender, fn, args), daemon=True)
    await asyncio.to_thread(proc.start)
    sender.close()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    fd = receiver.fileno()
    loop.add_reader(fd, readable)
    try:
        try:
            await asyncio.wait_for(ready, limit)
        except TimeoutError:
            raise TimedOut(f"no answer within {limit:g} s") from None
        finally:
            loop.remove_reader(fd)
        # The event loop may have made the pipe non-blocking; an answer larger than the pipe's
        # buffer arrives in parts, read in a thread as the child writes them.
        os.set_blocking(fd, True)
        try:
            return await asyncio.to_thread(receiver.recv)
        except EOFError:
            raise ChildDied(f"the child process stopped (exit {proc.exitcode})") from None
    finally:
        if proc.is_alive():
            proc.kill()
        await asyncio.to_thread(proc.join)
        # The receiver is closed when the last reference to it goes: a thread reading it may
        # still hold one if this task was cancelled.
