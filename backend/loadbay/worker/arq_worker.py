"""Settings for `arq` worker processes (`loadbay worker`)."""

import asyncio
import signal
import time
from typing import Any

import structlog
from arq import cron
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix, job_key_prefix
from arq.worker import create_worker
from redis.asyncio import Redis
from redis.exceptions import RedisError

from loadbay.config import Settings, get_settings
from loadbay.core.logging import configure_logging
from loadbay.db import make_engine, make_sessionmaker
from loadbay.worker.backend import ArqBackend, Registry

log = structlog.get_logger()
QUEUE_RETRY_MAX_SECONDS = 30


def worker_settings(settings: Settings, registry: Registry) -> dict[str, Any]:
    # One engine for the life of the process: the worker may start again after losing Redis.
    kept: dict[str, Any] = {}

    async def startup(ctx: dict[str, Any]) -> None:
        if "engine" not in kept:
            kept["engine"] = make_engine(settings)
        ctx["engine"] = kept["engine"]
        ctx["sessionmaker"] = make_sessionmaker(ctx["engine"])
        ctx["settings"] = settings
        # Jobs that fan out (a commit into chunks) enqueue through the worker's own Redis pool.
        ctx["backend"] = ArqBackend(
            settings.redis_url or "", registry, settings.queue_name, pool=ctx["redis"]
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["engine"].dispose()

    # A periodic job's id is its cron name and the time it is due: named after the queue, so that
    # deployments sharing one Redis do not take each other's runs for their own.
    crons = [
        cron(
            registry.functions[name],  # type: ignore[arg-type]  # arq types jobs as its own coroutine protocol
            name=f"{settings.queue_name}:{name}",
            minute={0} if every >= 3600 else None,
            second=set(range(0, 60, every)) if every < 60 else 0,
            run_at_startup=True,
            unique=True,
        )
        for name, every in registry.periodic.items()
    ]
    return {
        "functions": list(registry.functions.values()),
        "cron_jobs": crons,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url or "redis://127.0.0.1:6379"),
        "queue_name": settings.queue_name,
        "max_jobs": 4,
        "job_timeout": 3600,
        "keep_result": 3600,
    }


def _release_taken(worker: Any, settings: Settings) -> None:
    """Give back the jobs this worker took and did not finish, so that another runs them at once.

    arq puts a job cancelled by the stop back in the queue; but a job cancelled after arq took it and
    before it started the function (arq was reading the job) keeps its in-progress mark, and nobody
    runs it before the mark expires (`job_timeout`). Every task of the worker has ended here.
    """

    async def release() -> int:
        released = 0
        async with Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379") as r:
            # A job that arq put back ended its task normally; one cancelled before it ran did not.
            for job_id in [j for j, t in worker.tasks.items() if t.cancelled()]:
                # Still defined (not finished) and still marked: taken, never run.
                if await r.exists(job_key_prefix + job_id) and await r.delete(
                    in_progress_key_prefix + job_id
                ):
                    released += 1
        return released

    try:
        released = worker.loop.run_until_complete(release())
    except (RedisError, OSError) as e:  # the queue is gone: the sweeper sends the work again
        log.warning("worker_release_failed", error=repr(e))
        return
    if released:
        log.info("worker_released_jobs", jobs=released)


def run(registry: Registry, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    class WorkerSettings:
        pass

    for k, v in worker_settings(settings, registry).items():
        setattr(WorkerSettings, k, v)
    delay = 1.0
    while True:
        worker = create_worker(WorkerSettings)  # type: ignore[arg-type]
        started = time.monotonic()
        try:
            worker.run()
            _release_taken(worker, settings)
            return  # stopped by a signal
        except asyncio.CancelledError:
            # A signal cancelled a job while arq was recording its end (shielded, so it goes on), and
            # arq's shutdown re-raised the cancellation. The stop is the one asked for; let that
            # bookkeeping finish, or the job would stay marked in progress in Redis and nobody would
            # run it again before the mark expires.
            pending = [t for t in asyncio.all_tasks(worker.loop) if not t.done()]
            if pending:
                worker.loop.run_until_complete(asyncio.wait(pending, timeout=10))
            log.info("worker_stopped", during="job end", tasks_finished=len(pending))
            _release_taken(worker, settings)
            return
        except (RedisError, OSError) as e:
            # Redis restarting or out of reach: wait and start again, rather than exit and leave the
            # imports to wait for a supervisor. The database says what is left; the sweeper re-sends it.
            if time.monotonic() - started > QUEUE_RETRY_MAX_SECONDS:
                delay = 1.0
            log.warning("worker_lost_queue", error=repr(e), retry_in=delay)
        loop = worker.loop
        # The crashed worker's signal handlers would swallow SIGTERM while we wait.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        # Jobs still running finish their transactions (their results cannot reach Redis; the
        # ledger has them), then the wait.
        leftover = [t for t in worker.tasks.values() if not t.done()]
        loop.run_until_complete(asyncio.gather(*leftover, asyncio.sleep(delay), return_exceptions=True))
        delay = min(delay * 2, QUEUE_RETRY_MAX_SECONDS)
