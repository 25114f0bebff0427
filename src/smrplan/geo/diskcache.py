"""Region geometry prepared once per land layer and kept on disk between runs.

Checking the land polygons, closing the water between them (`water.enclosed_pieces`), classifying the
sea cells (`seacells.SeaCells`) and listing the h3 cells on land depend on the land and lake layers and a
few settings only, not on the scenario's settlements, yet they cost seconds for a national land layer
(India's OpenStreetMap land: 2.6 s, 4.2 s, 1.0 s and 1.5 s). Each is computed once and stored under a
key made of its inputs (the geometries' WKB, the settings) and of the source code of the modules that
compute it, so a change to either makes a new entry and an entry is never stale.

Entries are compressed NumPy ``.npz`` files (no pickle; geometries as concatenated WKB bytes with offsets) in
``$SMRPLAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/smrplan``, else ``~/.cache/smrplan``. Setting
``SMRPLAN_CACHE_DIR`` to an empty string turns the cache off. Each entry is written to a temporary
file and renamed, so a reader never sees half an entry; an entry that cannot be read is computed again,
and a directory that cannot be written to only costs the time saved.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

import numpy as np
import shapely

log = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]


def cache_dir() -> Path | None:
    """The cache folder (see the module docstring), or None when ``SMRPLAN_CACHE_DIR`` is empty."""
    env = os.environ.get("SMRPLAN_CACHE_DIR")
    if env is not None:
        return Path(env) if env.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smrplan"


def key_of(parts: Iterable[object], code: Iterable[ModuleType] = ()) -> str:
    """A hex digest naming an entry: of each part (bytes as they are, arrays by their bytes, dtype and
    shape, anything else by its ``repr``) and of the source of each module in `code`."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"{part.dtype}{part.shape}".encode())
            data = part.tobytes() if part.dtype != object else b"".join(shapely.to_wkb(part))
            h.update(data)
        elif isinstance(part, bytes):
            h.update(part)
        else:
            h.update(repr(part).encode())
        h.update(b"\0")
    for module in code:
        h.update(inspect.getsource(module).encode())
    return h.hexdigest()


def pack_geometries(geoms: np.ndarray) -> Arrays:
    """Geometries as two arrays an ``.npz`` can hold: their WKB bytes end to end (uint8) and where each
    ends (int64)."""
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    ends = np.cumsum([len(b) for b in wkb], dtype=np.int64)
    return {"wkb": np.frombuffer(b"".join(wkb), np.uint8), "wkb_ends": ends}


def unpack_geometries(arrays: Arrays) -> np.ndarray:
    """The geometries `pack_geometries` packed (object array of shapely geometries)."""
    buf, ends = arrays["wkb"].tobytes(), arrays["wkb_ends"]
    starts = np.r_[0, ends[:-1]]
    return shapely.from_wkb([buf[a:b] for a, b in zip(starts, ends, strict=True)])


def cached(name: str, key: str, compute: Callable[[], Arrays]) -> Arrays:
    """The arrays of entry `name` / `key`, read from the cache, else computed and stored.

    Parameters
    ----------
    name : str
        What the entry holds (a file name prefix, e.g. ``enclosed``).
    key : str
        Its inputs' digest (`key_of`).
    compute : callable
        Makes the arrays (numeric arrays only) when the cache has no readable entry.

    Returns
    -------
    dict of str to numpy.ndarray
        The entry's arrays.
    """
    folder = cache_dir()
    if folder is None:
        return compute()
    path = folder / f"{name}-{key[:32]}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            log.warning("cache entry %s unreadable (%s): computing it again", path, exc)
    arrays = compute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".npz", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(f, allow_pickle=False, **arrays)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError as exc:
        log.debug("cache folder %s not writable (%s): %s not kept", folder, exc, name)
    return arrays
