"""Errors of the memory layer.

MemoryError_                 (trailing underscore: Python has a builtin MemoryError)
 ├── StoreInUse              another process owns the embedded store (its PID is named)
 ├── StoreModelMismatch      the store was built with another embedding model or dimension
 ├── StoreCorrupt            the store folder is not an mmagent store, or its metadata is unreadable
 ├── StoreUnavailable        the Qdrant server cannot be reached or refused the request
 └── StoreFull               the store's disk has too little free space to write safely
"""


class MemoryError_(Exception):
    pass


class StoreInUse(MemoryError_):
    pass


class StoreModelMismatch(MemoryError_):
    pass


class StoreCorrupt(MemoryError_):
    pass


class StoreUnavailable(MemoryError_):
    pass


class StoreFull(MemoryError_):
    pass
