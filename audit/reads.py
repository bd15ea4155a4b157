"""The read log. Pages call `log_read` when they open a sensitive section of a case."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .chain import chain_or_collect
from .models import AccessLog, Section


def log_read(user, case, section: str, reason: str = "") -> AccessLog:
    """Record that `user` opened `section` of `case` (with the stated reason for a break-the-glass access).

    Call it from the view that renders the section, after the scope check, once per page view:
        log_read(request.user, case, Section.HEALTH)
        log_read(request.user, case, Section.PROTECTED_CASE, reason=form.cleaned_data["reason"])
    """
    if section not in Section.values:
        raise ValidationError({"section": _("Partie du dossier inconnue.")})
    return AccessLog.objects.create(user=user, case=case, section=section, reason=reason.strip())


def log_reads(user, cases, section: str) -> list[AccessLog]:
    """`log_read` of many cases at once (a list exported): one insert for all the rows, chained like those of
    `log_read` (audit.signals chains a row on post_save, which a bulk insert does not send). Call it inside
    audit.chain.chained_at_end, so that the chain is written in one batch too."""
    if section not in Section.values:
        raise ValidationError({"section": _("Partie du dossier inconnue.")})
    rows = AccessLog.objects.bulk_create([AccessLog(user=user, case=case, section=section) for case in cases])
    for row in rows:
        chain_or_collect(row)
    return rows
