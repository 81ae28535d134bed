"""The reduce stage and the store: memory records in Qdrant (Qdrant Edge embedded by default).

Imports :mod:`perception` and :mod:`models` only.
"""

from memory.errors import MemoryError_, StoreInUse, StoreModelMismatch
from memory.records import MemoryRecord
from memory.store import Hit, MemoryStore, Scope, open_store

__all__ = [
    "Hit",
    "MemoryError_",
    "MemoryRecord",
    "MemoryStore",
    "Scope",
    "StoreInUse",
    "StoreModelMismatch",
    "open_store",
]
