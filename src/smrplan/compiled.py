"""Numerical loops compiled to machine code with numba, shared by the modules that need them.

Import this module only where a compiled loop runs: numba's import costs about 0.3 s.
"""

from __future__ import annotations

from collections.abc import Callable

from numba import njit


def compiled(func: Callable) -> Callable:
    """`func` compiled by numba without the GIL, its machine code cached on disk.

    Parameters
    ----------
    func : callable
        A function numba's ``nopython`` mode compiles: numpy arrays and scalars in, no Python objects.

    Returns
    -------
    callable
        The compiled function. Its code is cached beside the module that defines it, else in the user's
        cache folder or ``NUMBA_CACHE_DIR``; where none of them can be written numba refuses to cache,
        and the function is compiled anew in each process instead (about 2 s for a large loop).
    """
    try:
        return njit(cache=True, nogil=True)(func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(nogil=True)(func)
