"""The case row a transition holds under lock, read once and shared by everything the transition runs.

A workflow service locks the case row (services._lock_case) and writes through that instance; the
flow's callbacks (the step's status and grants, the switches, the deadline timer's arming) and a
caller that already locked the row (a committee recording its decision) use the same instance
instead of reading the row again. The registry lives only for the `holding` block, inside the
transaction that took the lock: outside one (a timer fired by beat) the row is read as before.
"""

import threading
from contextlib import contextmanager

_held = threading.local()


def held_case(case_id):
    """The locked instance of this case held by the running transition, or None."""
    cases = getattr(_held, "cases", None)
    return cases.get(case_id) if cases else None


@contextmanager
def holding(case):
    """Within this block, `held_case(case.pk)` is `case`: call only with a row locked in the running
    transaction (select_for_update), and write the case only through it while the block runs."""
    cases = getattr(_held, "cases", None)
    if cases is None:
        cases = _held.cases = {}
    outermost = not cases
    owner = case.pk not in cases
    if owner:
        cases[case.pk] = case
    try:
        yield cases[case.pk]
    finally:
        if owner:
            cases.pop(case.pk, None)
        if outermost:
            _held.memo = None


def memo(key, compute):
    """A value computed once per held transition (e.g. a step's due date: the notification of the
    opened step and the arming of its deadline timer ask for it in the same transition). Not kept
    outside a `holding` block."""
    cases = getattr(_held, "cases", None)
    if not cases:
        return compute()
    values = getattr(_held, "memo", None)
    if values is None:
        values = _held.memo = {}
    if key not in values:
        values[key] = compute()
    return values[key]
