"""A bound on the memory of the process that runs one extraction.

Extractions run in a work-horse forked by the worker (:mod:`workers.horse`); bounding the
horse's address space (``RLIMIT_AS``) makes an extraction that would grow past
``CLAIMWIRE_JOB_MEMORY_MB`` fail with a ``MemoryError`` inside the job, which the job
records as the article's problem (the horse then retires), instead of growing until the
kernel's OOM killer takes the worker or a neighbour. The worker itself
is never bounded, so it lives on to take the next job.
"""

from __future__ import annotations

import resource

MIB = 1024 * 1024


def limit_memory(megabytes: int) -> None:
    """Bound this process's address space to ``megabytes`` MiB (0: leave it unbounded)."""
    if megabytes <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = megabytes * MIB
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def memory_limit_mb() -> int | None:
    """This process's address-space bound in MiB, None when unbounded."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft // MIB
