"""Network results kept per version of the store's data, on disk beside the store.

A graph takes a second or two to read from the store and a centrality column a second
or more to compute; both depend only on the store's data and the filters. They are kept
in a directory beside the store file (``citydip.sqlite.network-cache/``, private to its
owner like the store), one file per result, named by the *data version* and the result's
key. The data version is the store's latest import run (its id and start time): every
write to the store — an import, an edit, an index build, ``init`` — is a run, so a write
makes every kept result unreachable, and the next result written removes the files of
other versions. Nothing else is ever trusted: a result of another version is not read.

``CITYDIP_NETWORK_CACHE=0`` turns the cache off (every result is computed again); stores
without a file (an in-memory SQLite, PostgreSQL) have none.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

__all__ = ["GraphResults", "ResultCache", "data_version", "result_cache"]

#: Bumped when what the files hold changes shape (old files are then never read).
CACHE_FORMAT = 3
#: The most bytes kept; the least recently used files go first beyond it.
MAX_BYTES = 512 * 1024 * 1024
SUFFIX = ".network-cache"


def data_version(store) -> tuple:
    """The store's data version (:func:`citydiplomacy.store.versions.token`): raised by
    every write, of any process, in the write's own transaction; so a graph or a result
    kept by one process is not used once another process wrote to the store."""
    from ..store.versions import token

    with store.connect() as conn:
        return token(conn)


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


class ResultCache:
    """Files of results beside one store, keyed by data version and result key."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def _path(self, version: tuple, key: tuple) -> Path:
        from .. import __version__

        return self.directory / f"{_digest(version, CACHE_FORMAT, __version__)}-{_digest(key)}.pkl"

    def get(self, version: tuple, key: tuple) -> Any | None:
        """The result kept for ``key`` at ``version``, or None."""
        path = self._path(version, key)
        try:
            with open(path, "rb") as f:
                stored_key, value = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            return None
        if stored_key != (version, key):   # a digest collision, however unlikely
            return None
        try:
            os.utime(path)                  # recently used: pruned last
        except OSError:
            pass
        return value

    def put(self, version: tuple, key: tuple, value: Any) -> None:
        """Keep ``value`` for ``key`` at ``version`` (written whole or not at all), and
        remove the results of other versions."""
        path = self._path(version, key)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump(((version, key), value), f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._prune(path.name.split("-")[0])
        except OSError:
            pass    # a read-only or full disk: the result is simply not kept

    def _prune(self, current: str) -> None:
        with self._lock:
            files = []
            for p in self.directory.glob("*.pkl"):
                try:
                    if not p.name.startswith(current + "-"):
                        p.unlink(missing_ok=True)
                    else:
                        st = p.stat()
                        files.append((st.st_mtime, st.st_size, p))
                except OSError:
                    continue
            total = sum(size for _, size, _ in files)
            for _, size, p in sorted(files):
                if total <= MAX_BYTES:
                    break
                p.unlink(missing_ok=True)
                total -= size

    def clear(self) -> None:
        """Remove every kept result."""
        for p in self.directory.glob("*.pkl"):
            p.unlink(missing_ok=True)


def result_cache(store) -> ResultCache | None:
    """The cache beside ``store``'s file, or None (no file, or ``CITYDIP_NETWORK_CACHE=0``)."""
    if os.environ.get("CITYDIP_NETWORK_CACHE", "1").strip().lower() in ("0", "no", "off", "false"):
        return None
    path = getattr(store, "path", None)
    if path is None:
        return None
    return ResultCache(Path(path).parent / (Path(path).name + SUFFIX))


class GraphResults:
    """The results of one graph: a :class:`ResultCache` bound to a data version and the
    filters that made the graph. ``get_or_compute(key, fn)`` returns the kept result or
    computes, keeps and returns it; without a cache (``cache`` None) it just computes."""

    def __init__(self, cache: ResultCache | None, version: tuple, filters_key: tuple):
        self.cache = cache
        self.version = version
        self.filters_key = filters_key

    def get_or_compute(self, key: tuple, fn: Callable[[], Any]) -> Any:
        if self.cache is None:
            return fn()
        full = (self.filters_key, key)
        value = self.cache.get(self.version, full)
        if value is None:
            value = fn()
            self.cache.put(self.version, full, value)
        return value
