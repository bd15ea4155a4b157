"""Marks that live exactly as long as what the running transaction wrote: "was X already done in this
transaction, and is it still done?" answered without a query.

A mark is a no-op on-commit callback. Django drops the callbacks of a savepoint it rolls back and clears
the list when the transaction ends, so a mark disappears with the writes made beside it. Used to mark a
case dirty once per transition (steering) and to chain only the history rows still alive (audit).
"""

from django.db import transaction

# Scanning the pending callbacks is linear: past this many (a bulk load in one transaction), `marked`
# answers False and the caller simply writes again (correct, only not deduplicated).
SCAN_LIMIT = 300


class _Mark:
    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __call__(self):
        pass


def mark(key=None):
    """Set a mark in the running transaction; None outside one (nothing can roll back then)."""
    if not transaction.get_connection().in_atomic_block:
        return None
    token = _Mark(key)
    transaction.on_commit(token)
    return token


def marked(key) -> bool:
    """Has the running transaction set a mark with this key that is still alive?"""
    pending = transaction.get_connection().run_on_commit
    if not transaction.get_connection().in_atomic_block or len(pending) > SCAN_LIMIT:
        return False
    return any(isinstance(func, _Mark) and func.key == key for _sids, func, _robust in pending)


def unmark(keys) -> None:
    """Drop the running transaction's marks with these keys (what they stood for was undone)."""
    connection = transaction.get_connection()
    connection.run_on_commit[:] = [
        entry for entry in connection.run_on_commit if not (isinstance(entry[1], _Mark) and entry[1].key in keys)
    ]


def alive_marks() -> set[int]:
    """The ids of the marks still alive in the running transaction (rolled-back ones are gone)."""
    return {id(func) for _sids, func, _robust in transaction.get_connection().run_on_commit if isinstance(func, _Mark)}
