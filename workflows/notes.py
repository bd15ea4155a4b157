"""The case notes and contact log: the only writer of cases.models.CaseNote, and its read side.

A note carries a data category of the visibility matrix; a reader sees the notes of the categories
their role may read on this case (permissions.visibility), and reads of sensitive categories are
logged (permissions.reads). Notes are never edited: a correction is a new note naming the one it
corrects. A named colleague (@mention) is told through workflows.events.note_mentioned.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import CaseNote
from permissions.categories import CATEGORY_LABELS
from permissions.policy import CASE_READERS, Action, log_denial, memberships_of, policy
from permissions.reads import log_sensitive_reads
from permissions.roles import Role
from permissions.visibility import R, W, case_access

from . import events
from .services import _lock_case, audited

# Who may write notes: the partners who follow the case, not the auditor (read only).
NOTE_WRITERS = CASE_READERS - {Role.AUDITOR}


def readable_categories(access) -> list[str]:
    """The categories whose notes this access may read in full (R or W: a note is free text, so a
    summary-only level does not show it; a protected case's masked categories stay hidden)."""
    return [c for c in CATEGORY_LABELS if access.category_level(c) in (R, W)]


def writable_categories(user, case) -> list[str]:
    """Categories `user` may file a note under on `case`: those they read in full, through a role
    that writes notes."""
    access = case_access(user, case)
    if not (set(access.roles) & NOTE_WRITERS):
        return []
    return readable_categories(access)


def visible_notes(user, case, access=None, *, limit: int | None = None, log: bool = True) -> list[CaseNote]:
    """The case's notes `user` may read, newest contact first (one query); sensitive reads logged
    (`log=False`: the caller logs them with its other reads, see web.cases.views)."""
    access = access or case_access(user, case)
    categories = readable_categories(access)
    if not categories:
        return []
    notes = list(
        CaseNote.objects.filter(case=case, category__in=categories)
        .select_related("author", "mentioned", "corrects")
        .order_by("-contact_date", "-pk")[:limit]
    )
    corrected = {n.corrects_id for n in notes}
    for note in notes:
        note.category_label = CATEGORY_LABELS[note.category]
        note.is_corrected = note.pk in corrected
    if notes and log:
        log_sensitive_reads(user, case, {n.category for n in notes})
    return notes


def mention_candidates(user, case, category: str | None = None):
    """Colleagues `user` may name on a note: active members of their organisations who may see the
    case (and, when given, the note's category)."""
    orgs = {g.organisation_id for g in memberships_of(user)}
    users = list(
        get_user_model()
        .objects.filter(is_active=True, memberships__is_active=True, memberships__organisation_id__in=orgs)
        .exclude(pk=user.pk)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    able = policy.users_who_can(users, Action.VIEW, case)
    if category is None:
        return able
    return [u for u in able if category in readable_categories(case_access(u, case))]


def note_add(*, actor, case, kind: str, contact_date, category: str, text: str, corrects=None, mentioned=None):
    """Write one note (or the correction of one) with its history; tell the colleague it names."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Écrivez le contenu de la note.")})
    if contact_date is None:
        raise ValidationError({"contact_date": _("Indiquez la date du contact.")})
    if contact_date > timezone.localdate():
        raise ValidationError({"contact_date": _("La date du contact ne peut pas être dans le futur.")})
    with audited(actor, "Note de suivi"):
        case = _lock_case(case.pk)
        if not policy.can(actor, Action.VIEW, case):
            log_denial(actor, "note", "case", case.pk)
            raise PermissionDenied
        allowed = writable_categories(actor, case)
        if not allowed:
            log_denial(actor, "note", "case", case.pk)
            raise PermissionDenied
        if category not in allowed:
            raise ValidationError({"category": _("Choisissez une catégorie que vous pouvez voir sur ce dossier.")})
        if corrects is not None:
            corrects = CaseNote.objects.filter(pk=getattr(corrects, "pk", corrects), case=case).first()
            if corrects is None or corrects.category not in allowed:
                raise ValidationError({"corrects": _("La note à corriger n'existe pas sur ce dossier.")})
        if mentioned is not None and mentioned not in mention_candidates(actor, case, category):
            raise ValidationError(
                {"mentioned": _("Cette personne ne peut pas voir ce dossier ou cette catégorie de note.")}
            )
        note = CaseNote(
            case=case,
            author=actor,
            kind=kind,
            contact_date=contact_date,
            category=category,
            text=text,
            corrects=corrects,
            mentioned=mentioned,
        )
        note.full_clean()
        note.save()
        if mentioned is not None:
            events.note_mentioned.send(sender=CaseNote, case=case, note=note, mentioned=mentioned)
    return note
