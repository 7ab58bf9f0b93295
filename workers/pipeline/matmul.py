"""The matrix library the pipeline's networks multiply with: numpy's OpenBLAS, one thread.

thinc multiplies with BLIS by default. The BLIS inside the ``blis`` wheel picks its kernels
by CPU model and falls back to its slow generic kernels on a CPU it does not know; AMD's
EPYC of family 19h is one (``BLIS_ARCH_DEBUG=1`` prints "selecting sub-configuration
'generic'"), and there a tok2vec-sized product took about 4 ms against 1 ms in OpenBLAS,
which numpy ships built to pick its kernels at run time on any x86-64 CPU. The extraction of
the 426 dev articles gave byte-identical claims either way, in about 30% less time.

One thread: a worker runs one job at a time, and more cores are used by more workers, which
would only fight over the cores if each multiplied on several threads. The transition
parsers' own step (spaCy's Cython, through thinc's ``CBlas``) still calls BLIS; it can be
redirected from Cython only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from thinc.api import use_ops
from threadpoolctl import threadpool_limits

BLAS_THREADS = 1


@contextmanager
def openblas_ops() -> Iterator[None]:
    """Build the networks created inside the block on OpenBLAS; limits this process's BLAS threads.

    A thinc layer keeps the ops current when it was built, so loading a pipeline inside the
    block is enough; the thread limit holds for the whole process from here on.
    """
    threadpool_limits(BLAS_THREADS, user_api="blas")
    with use_ops("numpy", use_blis=False):
        yield
