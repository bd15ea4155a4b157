"""Read logging: who read which part of which case, and why.

Two levels:
- every case read the rules require logging (a protected case, or an auditor reading) writes an
  ids-only line to the `ppgdid.access.read` logger, from `policy.case_or_404` and `visible_cases`,
  whatever page or export it is;
- the audit app's read log (`audit.reads.log_read`, table audit_accesslog, shown on the timeline)
  records the sensitive sections a page displays (the case page does it) and every break-the-glass
  access with its reason (`log_break_glass` below).
"""

import logging

from .middleware import current_request_id
from .roles import Role

log = logging.getLogger("ppgdid.access.read")


def must_log_read(user, case) -> bool:
    from .policy import memberships_of

    return bool(case.is_protected) or any(g.role == Role.AUDITOR for g in memberships_of(user))


def log_break_glass(user, case, reason: str) -> None:
    """A break-the-glass access goes to the audit read log with its reason (and to the log line)."""
    try:
        from audit.models import Section
        from audit.reads import log_read as audit_log_read
    except ImportError:  # the audit app is not installed: the log line below is the record
        audit_log_read = None
    if audit_log_read is not None:
        audit_log_read(user, case, Section.PROTECTED_CASE, reason)
    log_read(user, case, "break_glass", reason)


def log_read(user, case, section: str, reason: str = "") -> None:
    """Write one ids-only read line."""
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
