"""The import jobs by name, for the registry (``loadbay.jobs``): thin entry points, ids only.

Staging is in ``staging``, the commit in ``committing``, the sweeper in ``recovery``.
"""

from loadbay.config import Settings
from loadbay.imports import committing, recovery, staging
from loadbay.worker.backend import JobFn

JOBS: dict[str, JobFn] = {
    "stage_import": staging.stage_import,
    "commit_import": committing.commit_import,
    "commit_chunk": committing.commit_chunk,
    "sweep_imports": recovery.sweep_imports,
}


def periodic(settings: Settings) -> dict[str, int]:
    return {"sweep_imports": settings.sweep_seconds}
