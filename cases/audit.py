"""Who did it and why, on every history row, inside and outside web requests."""

import threading
from contextlib import contextmanager
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

_state = threading.local()


@contextmanager
def acting_as(user, reason: str = ""):
    """Record `user` and `reason` on every history row written inside the block."""
    previous_request = getattr(HistoricalRecords.context, "request", None)
    previous_reason = getattr(_state, "reason", None)
    HistoricalRecords.context.request = SimpleNamespace(user=user)
    _state.reason = reason or previous_reason
    try:
        yield
    finally:
        _state.reason = previous_reason
        if previous_request is None:
            # A request handled inside the block (the test client) may have cleared it already.
            if hasattr(HistoricalRecords.context, "request"):
                del HistoricalRecords.context.request
        else:
            HistoricalRecords.context.request = previous_request


def system_actor():
    """The account recorded when no person acts (timers, Celery, commands)."""
    user, _created = get_user_model().objects.get_or_create(
        username=settings.SYSTEM_ACTOR_USERNAME,
        defaults={"first_name": "Système", "is_active": False},
    )
    return user


@receiver(pre_create_historical_record)
def _stamp_reason(sender, instance, history_instance, **kwargs):
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = (getattr(_state, "reason", None) or "")[:100]


def current_reason() -> str:
    """The reason recorded on the history rows written now (for history rows written in bulk)."""
    return getattr(_state, "reason", None) or ""


@contextmanager
def stating(reason: str):
    """Set the change reason only, keeping whoever the request or an outer block recorded as actor.

    Used by the request middleware: the user is read lazily from the request when a row is written,
    so an API call authenticated later in the view (token) is still attributed to its user.
    """
    previous_reason = getattr(_state, "reason", None)
    _state.reason = reason or previous_reason
    try:
        yield
    finally:
        _state.reason = previous_reason
