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

from django.db import transaction

from audit import reads as audit_reads
from audit.chain import chained_at_end
from audit.models import AccessLog, Section

from .categories import Category
from .middleware import current_request_id

log = logging.getLogger("ppgdid.access.read")


def log_break_glass(user, case, reason: str) -> None:
    """A break-the-glass access goes to the audit read log with its reason (and to the log line)."""
    audit_reads.log_read(user, case, Section.PROTECTED_CASE, reason)
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


# Visibility categories whose display counts as a sensitive read (shared/visibility.md).
SENSITIVE_CATEGORIES = {
    Category.HEALTH: Section.HEALTH,
    Category.VIOLENCE: Section.VIOLENCE,
    Category.NARRATIVE: Section.NARRATIVE,
}


def log_sensitive_reads(user, case, visible_categories, reason: str = "") -> list[AccessLog]:
    """Log one read per sensitive category the page showed, plus one for a protected case."""
    sections = [SENSITIVE_CATEGORIES[c] for c in SENSITIVE_CATEGORIES if c in visible_categories]
    if case.is_protected:
        sections.append(Section.PROTECTED_CASE)
    with transaction.atomic(), chained_at_end():  # the page's reads join the chain in one batch
        return [audit_reads.log_read(user, case, section, reason) for section in sections]
