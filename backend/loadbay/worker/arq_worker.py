"""Settings for `arq` worker processes (`loadbay worker`)."""

from typing import Any

from arq import cron, run_worker
from arq.connections import RedisSettings

from loadbay.config import Settings, get_settings
from loadbay.core.logging import configure_logging
from loadbay.db import make_engine, make_sessionmaker
from loadbay.worker.backend import ArqBackend
from loadbay.worker.jobs import JOBS, periodic


def worker_settings(settings: Settings) -> dict[str, Any]:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx["engine"] = make_engine(settings)
        ctx["sessionmaker"] = make_sessionmaker(ctx["engine"])
        ctx["settings"] = settings
        # Jobs that fan out (a commit into chunks) enqueue through the worker's own Redis pool.
        ctx["backend"] = ArqBackend(settings.redis_url or "", settings.queue_name, pool=ctx["redis"])

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["engine"].dispose()

    crons = [
        cron(
            JOBS[name],  # type: ignore[arg-type]  # arq types jobs as its own coroutine protocol
            minute={0} if every >= 3600 else None,
            second=set(range(0, 60, every)) if every < 60 else 0,
            run_at_startup=True,
            unique=True,
        )
        for name, every in periodic(settings).items()
    ]
    return {
        "functions": list(JOBS.values()),
        "cron_jobs": crons,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url or "redis://127.0.0.1:6379"),
        "queue_name": settings.queue_name,
        "max_jobs": 4,
        "job_timeout": 3600,
        "keep_result": 3600,
    }


def run(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    class WorkerSettings:
        pass

    for k, v in worker_settings(settings).items():
        setattr(WorkerSettings, k, v)
    run_worker(WorkerSettings)  # type: ignore[arg-type]
