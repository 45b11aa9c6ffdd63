"""Enqueueing: after the transaction commits, to arq (Redis) or to the in-process runner.

The worker knows no domain: it is handed the registry (``loadbay.jobs``) and only queues and runs.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from arq import create_pool
from arq.connections import RedisSettings
from arq.constants import job_key_prefix
from arq.jobs import Job, JobStatus
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loadbay.config import Settings
from loadbay.db import session_scope

log = structlog.get_logger()

JobFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Registry:
    """The job functions by name, and those that run on their own: name -> every N seconds."""

    functions: Mapping[str, JobFn]
    periodic: Mapping[str, int] = field(default_factory=dict)


class JobBackend(Protocol):
    async def enqueue(self, name: str, *, job_id: str | None = None, **kwargs: Any) -> None: ...
    async def holds(self, job_id: str) -> bool:
        """True when the queue vouches for this job: still waiting to be taken, or (in this process)
        running. A job taken by a worker that may have died since is not vouched for."""
        ...

    async def forget(self, job_id: str) -> None:
        """Drop what the queue keeps of a job given up for lost (it was sent again under a new id)."""
        ...

    async def start(self) -> None: ...
    async def close(self) -> None: ...


def defer(session: AsyncSession, name: str, *, job_id: str | None = None, **kwargs: Any) -> None:
    """Queue a job to be sent once this session's transaction has committed (never before)."""
    session.info.setdefault("deferred_jobs", []).append((name, job_id, kwargs))


async def send_deferred(session: AsyncSession, backend: "JobBackend") -> None:
    """Send the jobs queued by :func:`defer`; call right after a successful commit.

    A queue that is down loses nothing: the database says what is left to do and the sweeper
    sends it again later.
    """
    jobs = session.info.pop("deferred_jobs", [])
    for name, job_id, kwargs in jobs:
        try:
            await backend.enqueue(name, job_id=job_id, **kwargs)
        except Exception as e:
            log.warning("enqueue_failed", job=name, job_id=job_id, error=repr(e))


def discard_deferred(session: AsyncSession) -> None:
    session.info.pop("deferred_jobs", None)


@contextlib.asynccontextmanager
async def job_session(ctx: dict[str, Any]) -> AsyncIterator[AsyncSession]:
    """A job's unit of work: commit on success, then send the jobs it deferred."""
    async with session_scope(ctx["sessionmaker"]) as session:
        try:
            yield session
        except BaseException:
            discard_deferred(session)
            raise
    await send_deferred(session, ctx["backend"])


class InProcessBackend:
    """Runs the job functions as tasks of this process (the embedded default)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        registry: Registry,
        *,
        settings: Settings | None = None,
        concurrency: int = 2,
    ) -> None:
        self.registry = registry
        self.ctx: dict[str, Any] = {"sessionmaker": sessionmaker, "backend": self, "settings": settings}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.running: set[str] = set()
        # Heavy jobs (staging, chunks) share one database file; more at once only wait on its lock.
        self.slots = asyncio.Semaphore(concurrency)

    async def enqueue(self, name: str, *, job_id: str | None = None, **kwargs: Any) -> None:
        fn = self.registry.functions[name]
        if job_id is not None:
            if job_id in self.running:
                return  # the same job is already queued or running; jobs are idempotent anyway
            self.running.add(job_id)

        async def run() -> None:
            try:
                async with self.slots:
                    await fn(self.ctx, **kwargs)
            except Exception:
                log.exception("job_failed", job=name)
            finally:
                if job_id:
                    self.running.discard(job_id)

        task = asyncio.create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def holds(self, job_id: str) -> bool:
        # Queued or running here: this process is alive, since it asks.
        return job_id in self.running

    async def forget(self, job_id: str) -> None:
        return None  # a job of this process is never lost while the process lives

    async def start(self) -> None:
        for name, every in self.registry.periodic.items():
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

    def __init__(
        self, redis_url: str, registry: Registry, queue_name: str = "loadbay:queue", pool: Any = None
    ) -> None:
        self.registry = registry
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.pool: Any = pool

    async def start(self) -> None:
        if self.pool is not None:
            return
        self.pool = await create_pool(
            RedisSettings.from_dsn(self.redis_url), default_queue_name=self.queue_name
        )

    async def enqueue(self, name: str, *, job_id: str | None = None, **kwargs: Any) -> None:
        if name not in self.registry.functions:
            raise KeyError(name)
        await self.pool.enqueue_job(name, _job_id=job_id, **kwargs)

    async def holds(self, job_id: str) -> bool:
        status = await Job(job_id, self.pool, _queue_name=self.queue_name).status()
        # `in_progress` only says that a worker took it: arq keeps that mark for job_timeout whether
        # the worker lives or not.
        return status in (JobStatus.queued, JobStatus.deferred)

    async def forget(self, job_id: str) -> None:
        # A lost job stays in the queue, marked in progress, until the mark expires (job_timeout);
        # workers step over it on every poll meanwhile. If it was not lost after all, the worker that
        # runs it finishes it as usual, and the chunk's own transaction keeps it from applying twice.
        async with self.pool.pipeline(transaction=True) as pipe:
            pipe.zrem(self.queue_name, job_id)
            pipe.delete(job_key_prefix + job_id)
            await pipe.execute()

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()


def make_backend(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], registry: Registry
) -> JobBackend:
    if settings.redis_url:
        return ArqBackend(settings.redis_url, registry, settings.queue_name)
    return InProcessBackend(sessionmaker, registry, settings=settings)
