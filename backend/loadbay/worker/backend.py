"""Enqueueing: after the transaction commits, to arq (Redis) or to the in-process runner."""

import asyncio
import contextlib
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loadbay.worker.jobs import JOBS, PERIODIC

log = structlog.get_logger()


class JobBackend(Protocol):
    async def enqueue(self, name: str, *, job_id: str | None = None, **kwargs: Any) -> None: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...


class InProcessBackend:
    """Runs the job functions as tasks of this process (the embedded default)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.ctx: dict[str, Any] = {"sessionmaker": sessionmaker}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.running: set[str] = set()

    async def enqueue(self, name: str, *, job_id: str | None = None, **kwargs: Any) -> None:
        fn = JOBS[name]
        if job_id is not None:
            if job_id in self.running:
                return  # the same job is already queued or running; jobs are idempotent anyway
            self.running.add(job_id)

        async def run() -> None:
            try:
                await fn(self.ctx, **kwargs)
            except Exception:
                log.exception("job_failed", job=name)
            finally:
                if job_id:
                    self.running.discard(job_id)

        task = asyncio.create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def start(self) -> None:
        for name, every in PERIODIC.items():
            task = asyncio.create_task(self._periodic(name, every))
            self.tasks.add(task)

    async def _periodic(self, name: str, every: int) -> None:
        while True:
            await self.enqueue(name, job_id=f"periodic:{name}")
            await asyncio.sleep(every)

    async def close(self) -> None:
        for t in list(self.tasks):
            t.cancel()
        for t in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t


class ArqBackend:
    """Sends jobs to Redis for `loadbay worker` processes."""

    def __init__(self, redis_url: str, queue_name: str = "loadbay:queue") -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.pool: Any = None

    async def start(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings

        self.pool = await create_pool(
            RedisSettings.from_dsn(self.redis_url), default_queue_name=self.queue_name
        )

    async def enqueue(self, name: str, *, job_id: str | None = None, **kwargs: Any) -> None:
        if name not in JOBS:
            raise KeyError(name)
        await self.pool.enqueue_job(name, _job_id=job_id, **kwargs)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()


def make_backend(
    redis_url: str | None, sessionmaker: async_sessionmaker[AsyncSession], queue_name: str = "loadbay:queue"
) -> JobBackend:
    return ArqBackend(redis_url, queue_name) if redis_url else InProcessBackend(sessionmaker)
