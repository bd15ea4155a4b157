"""Record a security event (accounts.models.SecurityEvent) and log it, without personal data."""

import logging

from cases.audit import acting_as, system_actor
from permissions.middleware import current_request_id

from .models import SecurityEvent

log = logging.getLogger("ppgdid.accounts")


def record(kind: str, user=None, detail: str = "") -> SecurityEvent:
    # The history row names the user as its author; a refusal has none: the system actor signs it.
    actor = user if user is not None and user.pk else system_actor()
    with acting_as(actor, "Sécurité du compte"):
        event = SecurityEvent.objects.create(
            user=user if user is not None and user.pk else None,
            kind=kind,
            detail=detail[:200],
            request_id=current_request_id() or "",
        )
    level = logging.WARNING if kind in (SecurityEvent.Kind.SSO_REFUSED, SecurityEvent.Kind.OTP_FAILED) else logging.INFO
    log.log(level, "security event %s user_id=%s detail=%s", kind, event.user_id, detail[:200])
    return event
