"""Background jobs behind one small interface: arq workers with Redis, or in-process without.

This package is the only place that imports arq, so the queue can be swapped without touching the
domains. Job functions are ``async def job(ctx, **ids)``, idempotent, and find their work in the
database; the queue only carries ids.
"""
