"""Read-replica routing (DATABASE_REPLICA_URL; settings.PPGDID_READ_REPLICA names the alias).

Only reads made inside `replica_reads()` (the case list, the steering statistics: pages that may be a
moment behind) go to the replica. Everything else stays on default: every write, every read outside
those views (sessions, accounts, steps, a page after its form), and, once a write happened inside the
block (a read recorded by the audit, for instance) or a transaction is open, the rest of the block's
reads too, so a request always reads what it has just written.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# None: not in a replica block; False: in one, reading from the replica; True: in one, after a write.
_state: ContextVar[bool | None] = ContextVar("ppgdid_replica_state", default=None)


@contextmanager
def replica_reads():
    token = _state.set(False)
    try:
        yield
    finally:
        _state.reset(token)


def reads_from_replica(view):
    """View decorator (function or as_view()) for pages that may read a replica."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = settings.PPGDID_READ_REPLICA
        if not alias or _state.get() is not False or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints):
        if _state.get() is False:
            _state.set(True)  # read-after-write: the rest of this request reads default
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of default

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
