"""The read log. Pages call `log_read` when they open a sensitive section of a case."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from permissions.visibility import Category

from .chain import chained_at_end
from .models import AccessLog, Section

# Visibility categories whose display counts as a sensitive read (shared/visibility.md).
SENSITIVE_CATEGORIES = {
    Category.HEALTH: Section.HEALTH,
    Category.VIOLENCE: Section.VIOLENCE,
    Category.NARRATIVE: Section.NARRATIVE,
}


def log_read(user, case, section: str, reason: str = "") -> AccessLog:
    """Record that `user` opened `section` of `case` (with the stated reason for a break-the-glass access).

    Call it from the view that renders the section, after the scope check, once per page view:
        log_read(request.user, case, Section.HEALTH)
        log_read(request.user, case, Section.PROTECTED_CASE, reason=form.cleaned_data["reason"])
    """
    if section not in Section.values:
        raise ValidationError({"section": _("Partie du dossier inconnue.")})
    return AccessLog.objects.create(user=user, case=case, section=section, reason=reason.strip())


def log_sensitive_reads(user, case, visible_categories, reason: str = "") -> list[AccessLog]:
    """Log one read per sensitive category the page showed, plus one for a protected case."""
    sections = [SENSITIVE_CATEGORIES[c] for c in SENSITIVE_CATEGORIES if c in visible_categories]
    if case.is_protected:
        sections.append(Section.PROTECTED_CASE)
    with transaction.atomic(), chained_at_end():  # the page's reads join the chain in one batch
        return [log_read(user, case, section, reason) for section in sections]
