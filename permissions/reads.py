"""Read logging: who read which part of which case, and why.

The `audit` app owns the read log (`audit.log_read(user, case, section, reason)`). Until it is
installed, `record_case_read` writes an ids-only line to the `ppgdid.access.read` logger, so the rule
"every read of a protected case, and every read by an auditor, is logged" holds from day one.
"""

import logging

from .middleware import current_request_id
from .roles import Role

log = logging.getLogger("ppgdid.access.read")


def must_log_read(user, case) -> bool:
    from .policy import memberships_of

    return bool(case.is_protected) or any(g.role == Role.AUDITOR for g in memberships_of(user))


def log_read(user, case, section: str, reason: str = "") -> None:
    """Write one read-log entry (the audit app's if present, else an ids-only log line)."""
    try:
        from audit import log_read as audit_log_read
    except ImportError:
        audit_log_read = None
    if audit_log_read is not None:
        audit_log_read(user, case, section, reason)
        return
    # No free text here: the reason may hold personal data and logs are not the place for it.
    log.info(
        "case read user_id=%s case_id=%s section=%s reason_given=%s request_id=%s",
        getattr(user, "pk", None),
        case.pk,
        section,
        bool(reason),
        current_request_id() or "-",
    )


def record_case_read(user, case, section: str, reason: str = "") -> None:
    """Log the read when the rules require it (protected case, or an auditor reading)."""
    if must_log_read(user, case):
        log_read(user, case, section, reason)
