"""How this process uses memory: freed memory is reused instead of returned and faulted in
again. Called once by the command line and once in each worker process of a Dask cluster
(``engine.national``). A leaf: it imports nothing of the project."""

from __future__ import annotations

import os
import sys

_DONE: list[bool] = []


def reuse_freed_memory() -> None:
    """Arrow allocates from the system heap, as NumPy does, unless ``ARROW_DEFAULT_MEMORY_POOL``
    says otherwise: memory one frees the other reuses (a large batch's peak is about a sixth
    lower). On glibc, arrays of any size come from the heap and freed memory stays there for
    the next array (unless ``MALLOC_MMAP_THRESHOLD_`` is set): a batch's columns are freed and
    allocated again phase after phase, and each fresh page costs the kernel a fault (on the
    2-CPU machine, a third of a 2 M-household run was spent there)."""
    _DONE.append(True)
    # set before Arrow is loaded, which reads it then (a command that needs no Arrow, such as
    # ``review history``, does not pay for loading it)
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
        if "pyarrow" in sys.modules:  # already loaded (a benchmark, a test): set it now
            sys.modules["pyarrow"].set_memory_pool(sys.modules["pyarrow"].system_memory_pool())
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: no array below 1 GiB gets its own mapping
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap
    except (OSError, AttributeError):  # not glibc
        return


def once() -> None:
    """``reuse_freed_memory`` unless this process already did it."""
    if not _DONE:
        reuse_freed_memory()
