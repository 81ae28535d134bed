"""The store folder on disk, for the embedded store (:class:`memory.edge.EdgeStore`) and the apps
that write beside it: STORE/LOCK (one process per store, :class:`StoreLock`), STORE/mmagent.json
(one embedding model per store, :func:`check_meta`), the free-space floor below which a store is
neither opened nor written, and folders readable by their owner only."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from memory.errors import StoreCorrupt, StoreFull, StoreInUse, StoreModelMismatch
from memory.records import SCHEMA_VERSION

__all__ = ["META", "MIN_FREE_MB", "StoreLock", "check_free_space", "check_meta", "free_mb", "is_disk_full",
           "min_free_mb", "private_folder", "write_meta"]

META = "mmagent.json"


def _gone(pid: str) -> bool:
    """The process ``pid`` (as written in a LOCK file) no longer exists."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# below this much free space on the store's disk it is neither opened nor written: Qdrant Edge
# memory-maps its files, grows its write-ahead log in 32 MB segments and, on the first open after
# a store is made, lays out its payload indexes (~110 MB for a new store); a page it cannot back
# on a full disk kills the process with SIGBUS (exit 135) before any error can be raised
MIN_FREE_MB = 256


def min_free_mb() -> int:
    try:
        return max(0, int(os.environ.get("MMAGENT_MIN_FREE_MB", MIN_FREE_MB)))
    except ValueError:
        return MIN_FREE_MB


def free_mb(folder: Path) -> float:
    import shutil

    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / (1024 * 1024)


def check_free_space(folder: Path, doing: str = "open it") -> None:
    """StoreFull, naming the store and the free space, when its disk is below the floor."""
    floor = min_free_mb()
    free = free_mb(folder)
    if free < floor:
        raise StoreFull(
            f"store {folder}: only {free:.0f} MB free on its disk, {floor} MB needed to {doing} safely: "
            "free some space (or set MMAGENT_MIN_FREE_MB), or use another --store"
        )


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error (an OSError, or the engine's own) says the disk is full."""
    import errno

    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc) \
        or "os error 28" in str(exc)


def private_folder(folder: Path) -> None:
    """Create ``folder`` readable by this user only (0700), or take other users' access away from
    one that is ours (a memory holds what was said and shown: it is no one else's to read; the
    group's bits are left to whoever set them)."""
    import stat

    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        os.chmod(folder, 0o700)  # whatever the umask
        return
    st = folder.stat()
    if st.st_uid == os.getuid() and st.st_mode & 0o007:
        os.chmod(folder, stat.S_IMODE(st.st_mode) & ~0o007)


class StoreLock:
    """A non-blocking exclusive lock on STORE/LOCK, holding our PID."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "LOCK"
        self._fh: Any = None

    def acquire(self, settle: float = 10.0) -> None:
        """Take the lock, or raise :class:`StoreInUse` naming the holder. A holder that is gone
        (killed) while the lock is still held — its last file handle not closed yet, or kept by a
        child it left behind — is waited for up to ``settle`` seconds."""
        fh = open(self.path, "a+")
        deadline = time.monotonic() + settle
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                fh.seek(0)
                pid = fh.read().strip() or "unknown"
                if not _gone(pid) or time.monotonic() > deadline:
                    fh.close()
                    left = " (it has exited: a process it started still holds the store)" if _gone(pid) else ""
                    raise StoreInUse(
                        f"store {self.path.parent} is in use by PID {pid}{left}: wait for it to finish, "
                        "or use another --store"
                    ) from None
                time.sleep(0.2)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
        except OSError as exc:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()
            if is_disk_full(exc):
                raise StoreFull(f"store {self.path.parent}: no space left on its disk ({free_mb(self.path.parent):.0f} MB "
                                "free): free some space, or use another --store") from None
            raise
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


def check_meta(folder: Path, model_id: str, dim: int) -> dict[str, Any]:
    """Create or verify STORE/mmagent.json: one embedding model per store, forever."""
    meta_path = folder / META
    if not meta_path.exists():
        if (folder / "qdrant").exists():
            raise StoreCorrupt(f"{folder} has a Qdrant shard but no {META}: not an mmagent store")
        meta = {
            "schema_version": SCHEMA_VERSION,
            "embedder": {"model_id": model_id, "dim": dim},
            "created": time.time(),
        }
        tmp = meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2))
        os.replace(tmp, meta_path)
        return meta
    try:
        meta = json.loads(meta_path.read_text())
        stored_model, stored_dim = meta["embedder"]["model_id"], int(meta["embedder"]["dim"])
        version = meta.get("schema_version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise TypeError(f"schema_version is {version!r}, not a whole number")
        if not isinstance(meta.get("vectors", {}), dict):
            raise TypeError("vectors is not an object")
    except (ValueError, KeyError, TypeError, RecursionError, UnicodeDecodeError) as exc:
        raise StoreCorrupt(f"store damaged: {meta_path} is unreadable ({str(exc)[:80]})") from None
    if (stored_model, stored_dim) != (model_id, dim):
        raise StoreModelMismatch(
            f"store {folder} was built with the embedding model {stored_model} ({stored_dim}-d), "
            f"but this run embeds with {model_id} ({dim}-d): use that model, or another --store"
        )
    if int(meta.get("schema_version", 0)) > SCHEMA_VERSION:
        raise StoreCorrupt(f"store {folder} has schema {meta['schema_version']}, newer than this mmagent")
    return meta


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    tmp = (folder / META).with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, folder / META)
