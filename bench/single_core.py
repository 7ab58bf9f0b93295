"""Run a benchmark on one core with one thread, and read the process's memory.

Imported before anything that loads numpy: BLAS and OpenMP read their thread counts
once, at load time.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import resource  # noqa: E402
import threading  # noqa: E402

import psutil  # noqa: E402

MB = 1024 * 1024
SAMPLE_EVERY_S = 0.02


def pin_to_one_core(cpu: int | None = None) -> int:
    """Pin this process to one CPU (the first it may use, unless given) and return it."""
    chosen = min(os.sched_getaffinity(0)) if cpu is None else cpu
    os.sched_setaffinity(0, {chosen})
    return chosen


def rss_mb() -> float:
    """Resident memory of this process now, in MiB."""
    return psutil.Process().memory_info().rss / MB


def peak_rss_mb() -> float:
    """Highest resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count_words(text: str) -> int:
    """Words as whitespace-separated runs: the unit of every words/s figure."""
    return len(text.split())


class PeakRss:
    """Highest resident memory while the ``with`` block runs, sampled by a sleeping thread.

    ``ru_maxrss`` only ever grows, so it cannot tell one phase's peak from an earlier one's.
    """

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self.peak_mb = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._done.wait(SAMPLE_EVERY_S):
            self.peak_mb = max(self.peak_mb, process.memory_info().rss / MB)
