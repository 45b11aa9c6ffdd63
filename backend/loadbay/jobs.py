"""The job registry: one line per domain. The same functions run in arq workers and in-process."""

from types import ModuleType

from loadbay.auth import jobs as auth_jobs
from loadbay.config import Settings
from loadbay.imports import jobs as imports_jobs
from loadbay.worker.backend import Registry

# Each domain's `jobs` module names its job functions (JOBS) and those that run on their own
# (periodic: name -> every N seconds).
DOMAINS: tuple[ModuleType, ...] = (
    auth_jobs,
    imports_jobs,
)


def registry(settings: Settings) -> Registry:
    functions = {name: fn for d in DOMAINS for name, fn in d.JOBS.items()}
    every = {name: n for d in DOMAINS for name, n in d.periodic(settings).items()}
    assert len(functions) == sum(len(d.JOBS) for d in DOMAINS), "two domains name the same job"
    return Registry(functions=functions, periodic=every)
