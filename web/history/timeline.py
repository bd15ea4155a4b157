"""A case's story, as events: workflow steps, field changes (before → after), decisions,
notifications sent, grants and reads.

Sources are pluggable (`register_source`): an app adds its own events without touching this file.
What a viewer sees follows permissions.visibility: a field change is listed only if the viewer may
see that field on that case. Auditors (and superusers) see everything, reads and grants included.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.chain import history_models
from audit.models import AccessLog
from cases.formats import amount, french_date, french_datetime, person_name
from cases.models import Case, CaseNote, Proposal
from permissions.categories import CATEGORY_LABELS
from permissions.policy import roles_of
from permissions.roles import Role
from permissions.visibility import (
    FIELD_CATEGORIES,
    Category,
    can_see_category,
    can_see_field,
    case_access,
    is_masked,
)
from workflows.notes import readable_categories


class Kind:
    STEP = "step"
    CHANGE = "change"
    DECISION = "decision"
    NOTIFICATION = "notification"
    GRANT = "grant"
    READ = "read"
    NOTE = "note"


KIND_LABELS = {
    Kind.STEP: _("Étapes du parcours"),
    Kind.CHANGE: _("Modifications"),
    Kind.DECISION: _("Décisions"),
    Kind.NOTIFICATION: _("Notifications envoyées"),
    Kind.NOTE: _("Notes de suivi"),
    Kind.GRANT: _("Droits d'accès"),
    Kind.READ: _("Consultations"),
}
AUDITOR_ONLY_KINDS = {Kind.GRANT, Kind.READ}

# Models of the workflow record that permissions.visibility does not list field by field: they are
# "proposals and decisions" (shared/visibility.md). A model listed in FIELD_CATEGORIES wins.
MODEL_CATEGORIES = {
    "cases.committeereview": Category.DECISIONS,
    "cases.proposal": Category.DECISIONS,
    "cases.caleoldecision": Category.DECISIONS,
    "cases.householdreply": Category.DECISIONS,
}
DECISION_MODELS = {"cases.committeereview", "cases.caleoldecision", "cases.householdreply"}
GRANT_MODELS = {"guardian.groupobjectpermission", "guardian.userobjectpermission"}
# History kept for the chain but not told as field changes: the process is told by its tasks, a note
# by its own entry (note_events), which keeps to the note's category.
NOT_TOLD = {"workflows.caseprocess", "cases.casenote"}
HISTORY_TYPE_VERBS = {"+": _("création"), "~": _("modification"), "-": _("suppression")}


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class Event:
    at: datetime
    kind: str
    title: str
    actor: str = ""
    reason: str = ""
    changes: list[Change] = field(default_factory=list)
    detail: str = ""

    @property
    def kind_label(self):
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass
class Viewer:
    user: object
    roles: set
    full: bool  # auditor or superuser: every field, reads and grants
    accesses: dict = field(default_factory=dict)  # case pk → permissions.visibility.CaseAccess

    @classmethod
    def of(cls, user):
        roles = roles_of(user)
        return cls(user, roles, bool(user.is_superuser or Role.AUDITOR in roles))

    def kinds(self):
        return [k for k in KIND_LABELS if self.full or k not in AUDITOR_ONLY_KINDS]

    def access(self, case):
        """The roles reaching this case and its protection (referent and supervisors unmasked)."""
        access = self.accesses.get(case.pk)
        if access is None:
            access = self.accesses[case.pk] = case_access(self.user, case)
        return access

    def sees_field(self, case, model_label: str, name: str) -> bool:
        access = self.access(case)
        if self.full:
            # Every field, except what a protected case masks for all but its referent and supervisors.
            return not is_masked(access, model_label, name)
        if model_label in FIELD_CATEGORIES:
            return can_see_field(access, model_label, name)
        category = MODEL_CATEGORIES.get(model_label)
        return category is not None and can_see_category(access, category)


Source = Callable[[object, Viewer], list[Event]]
SOURCES: list[tuple[set, Source]] = []


def register_source(*kinds: str):
    """Decorator: `fn(case, viewer) -> [Event]` adds events of these kinds to every case timeline.

    The source is called only when one of its kinds is wanted; it must itself leave out what the
    viewer may not see (`viewer.full`, `viewer.sees_field`).
    """

    def decorate(fn):
        SOURCES.append((set(kinds), fn))
        return fn

    return decorate


def build_timeline(user, case, *, kinds=None, date_from: date | None = None, date_to: date | None = None):
    viewer = Viewer.of(user)
    wanted = {k for k in viewer.kinds() if not kinds or k in kinds}
    events = []
    for source_kinds, source in SOURCES:
        if source_kinds & wanted:
            events.extend(e for e in source(case, viewer) if e.kind in wanted)
    if date_from:
        events = [e for e in events if timezone.localtime(e.at).date() >= date_from]
    if date_to:
        events = [e for e in events if timezone.localtime(e.at).date() <= date_to]
    return sorted(events, key=lambda e: e.at)


# --- display helpers -------------------------------------------------------------------------------


def who(user) -> str:
    if user is None:
        return str(_("inconnu"))
    return person_name(user)  # by name, never by login


class _Display:
    """Turns stored values into what a reader understands, with one query per related object."""

    def __init__(self):
        self.cache = {}

    def __call__(self, model_field, value) -> str:
        if value is None or value == "":
            return "—"
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(model_field, models.BooleanField):
            return str(_("oui") if value else _("non"))
        if model_field.is_relation and model_field.many_to_one:
            return self.related(model_field.related_model, value)
        if isinstance(value, datetime):
            return french_datetime(value)
        if isinstance(value, date):
            return french_date(value)
        if isinstance(model_field, models.DecimalField):
            return amount(value)
        return str(value)

    def related(self, model, pk) -> str:
        key = (model._meta.label_lower, pk)
        if key not in self.cache:
            self._remember(model, pk, model._default_manager.filter(pk=pk).first())
        return self.cache[key]

    def _remember(self, model, pk, obj):
        if obj is None:
            text = f"#{pk}"
        elif hasattr(obj, "get_full_name") and hasattr(obj, "get_username"):
            text = who(obj)
        else:
            text = str(obj)
        self.cache[(model._meta.label_lower, pk)] = text

    def preload(self, told, sees):
        """Read the related objects the rows will name in one query per related model, not one per
        object. `told`: (model, history rows, _) triples; `sees(model, field name)`: may the viewer
        see that field (a hidden field's objects are not read)."""
        wanted: dict = {}
        for model, rows, _visible in told:
            for model_field in tracked_fields(model):
                if model_field.many_to_one and not model_field.primary_key and sees(model, model_field.name):
                    ids = wanted.setdefault(model_field.related_model, set())
                    ids.update(getattr(row, model_field.attname) for row in rows)
            for m2m_field in getattr(rows[0].__class__, "_history_m2m_fields", ()) if rows else ():
                if sees(model, m2m_field.name):
                    ids = wanted.setdefault(m2m_field.related_model, set())
                    ids.update(pk for row in rows for pk in _m2m_ids(row, m2m_field))
        for related_model, ids in wanted.items():
            ids.discard(None)
            ids -= {pk for label, pk in self.cache if label == related_model._meta.label_lower}
            if ids:
                found = related_model._default_manager.in_bulk(ids)
                for pk in ids:
                    self._remember(related_model, pk, found.get(pk))

    def many(self, model_field, ids) -> str:
        if not ids:
            return "—"
        return ", ".join(sorted(self.related(model_field.related_model, pk) for pk in ids))


# --- field changes from history rows ---------------------------------------------------------------


def case_history(case):
    """(original model, history queryset) of every history model whose rows belong to the case."""

    case_ct = ContentType.objects.get_for_model(Case)
    proposal_ids = list(Proposal.objects.filter(case=case).values_list("pk", flat=True))
    for history_model in history_models():
        model = history_model.instance_type
        label = model._meta.label_lower
        if label in NOT_TOLD:
            continue
        names = {f.name: f for f in model._meta.concrete_fields}
        qs = history_model.objects.all()
        if label == "cases.case":
            qs = qs.filter(id=case.pk)
        elif label == "cases.household":
            qs = qs.filter(id=case.household_id)
        elif label == "cases.householdmember":
            qs = qs.filter(household_id=case.household_id)
        elif label in GRANT_MODELS:
            qs = qs.filter(content_type=case_ct, object_pk=str(case.pk))
        elif "case" in names and names["case"].related_model is Case:
            qs = qs.filter(case_id=case.pk)
        elif "proposal" in names and names["proposal"].related_model is Proposal:
            qs = qs.filter(proposal_id__in=proposal_ids)
        else:
            continue
        yield model, qs.select_related("history_user").order_by("history_date", "history_id")


def _m2m_ids(row, m2m_field):
    return row.m2m_ids[m2m_field.name]


def _load_m2m_ids(rows, m2m_fields) -> None:
    """Set `row.m2m_ids` {list name: related ids} on history rows: one query per list, not per row."""
    by_id = {row.pk: row for row in rows}
    for row in rows:
        row.m2m_ids = {f.name: set() for f in m2m_fields}
    for m2m_field in m2m_fields if rows else ():
        m2m_model = getattr(type(rows[0]), m2m_field.name).model
        target = f"{m2m_field.m2m_reverse_field_name()}_id"
        pairs = m2m_model._default_manager.filter(history_id__in=list(by_id)).values_list("history_id", target)
        for history_id, related_id in pairs:
            by_id[history_id].m2m_ids[m2m_field.name].add(related_id)


@cache  # read for every history row of a timeline
def tracked_fields(model) -> list:
    """The model's columns its history keeps: `excluded_fields` leave derived copies out."""
    kept = {f.name for f in model.history.model.tracked_fields}
    return [f for f in model._meta.concrete_fields if f.name in kept]


def _row_changes(viewer, case, model, prev, row, display) -> list[Change]:
    label = model._meta.label_lower
    changes = []
    if row.history_type == "-":
        return changes
    for model_field in tracked_fields(model):
        if model_field.primary_key or not viewer.sees_field(case, label, model_field.name):
            continue
        after = getattr(row, model_field.attname)
        before = getattr(prev, model_field.attname) if prev is not None else None
        if prev is None and after in (None, "") or prev is not None and before == after:
            continue
        changes.append(
            Change(
                capfirst(model_field.verbose_name),
                display(model_field, before) if prev else "—",
                display(model_field, after),
            )
        )
    for m2m_field in getattr(type(row), "_history_m2m_fields", ()):
        if not viewer.sees_field(case, label, m2m_field.name):
            continue
        after = _m2m_ids(row, m2m_field)
        before = _m2m_ids(prev, m2m_field) if prev is not None else set()
        if before != after:
            changes.append(
                Change(
                    capfirst(m2m_field.verbose_name), display.many(m2m_field, before), display.many(m2m_field, after)
                )
            )
    return changes


def _grant_event(row, display) -> Event:
    holder = str(row.group) if hasattr(row, "group_id") else who(row.user)
    permission = row.permission.name if row.permission_id else "?"
    verb = (
        _("accordé à") if row.history_type == "+" else _("retiré à") if row.history_type == "-" else _("modifié pour")
    )
    return Event(
        at=row.history_date,
        kind=Kind.GRANT,
        title=f"{_('Droit')} « {permission} » {verb} {holder}",
        actor=who(row.history_user),
        reason=row.history_change_reason or "",
    )


def history_events(case, viewer) -> list[Event]:
    display = _Display()
    events = []
    told = []
    for model, qs in case_history(case):
        label = model._meta.label_lower
        if label in GRANT_MODELS:
            if viewer.full:
                holder = "group" if label == "guardian.groupobjectpermission" else "user"
                events.extend(_grant_event(row, display) for row in qs.select_related("permission", holder))
            continue
        m2m_fields = getattr(qs.model, "_history_m2m_fields", ())
        visible_model = any(viewer.sees_field(case, label, f.name) for f in tracked_fields(model))
        if not visible_model and not any(viewer.sees_field(case, label, f.name) for f in m2m_fields):
            continue  # nothing of it would be told to this viewer: not read
        rows = list(qs)
        _load_m2m_ids(rows, m2m_fields)
        told.append((model, rows, visible_model))
    display.preload(told, lambda model, name: viewer.sees_field(case, model._meta.label_lower, name))
    for model, rows, visible_model in told:
        label = model._meta.label_lower
        kind = Kind.DECISION if label in DECISION_MODELS else Kind.CHANGE
        previous = {}
        for row in rows:
            object_id = getattr(row, model._meta.pk.attname)
            prev = previous.get(object_id)
            previous[object_id] = row
            changes = _row_changes(viewer, case, model, prev, row, display)
            if row.history_type == "-" and not visible_model:
                continue
            if not changes and row.history_type != "-":
                continue  # nothing this viewer may see changed
            events.append(
                Event(
                    at=row.history_date,
                    kind=kind,
                    title=f"{capfirst(model._meta.verbose_name)} : {HISTORY_TYPE_VERBS[row.history_type]}",
                    actor=who(row.history_user),
                    reason=row.history_change_reason or "",
                    changes=changes,
                )
            )
    return events


register_source(Kind.CHANGE, Kind.DECISION, Kind.GRANT)(history_events)


# --- workflow steps (viewflow tasks) ---------------------------------------------------------------


@register_source(Kind.STEP)
def step_events(case, viewer) -> list[Event]:
    from viewflow.workflow.models import Task

    events = []
    tasks = (
        Task.objects.filter(process__caseprocess__case=case, flow_task_type__in=("HUMAN", "END"))
        .select_related("owner")
        .order_by("created", "pk")
    )
    for task in tasks:
        title = str(getattr(task.flow_task, "task_title", "") or task.flow_task)
        if task.flow_task_type == "END":
            events.append(Event(at=task.finished or task.created, kind=Kind.STEP, title=_("Parcours terminé")))
            continue
        events.append(Event(at=task.created, kind=Kind.STEP, title=f"« {title} » : {_('étape ouverte')}"))
        if task.assigned:
            events.append(
                Event(
                    at=task.assigned,
                    kind=Kind.STEP,
                    title=f"« {title} » : {_('prise en charge')}",
                    actor=who(task.owner),
                )
            )
        if task.finished:
            done = _("étape terminée") if task.status == "DONE" else _("étape annulée")
            events.append(Event(at=task.finished, kind=Kind.STEP, title=f"« {title} » : {done}", actor=who(task.owner)))
    return events


# --- case notes ------------------------------------------------------------------------------------


@register_source(Kind.NOTE)
def note_events(case, viewer) -> list[Event]:
    """The case notes (workflows/notes.py) of the categories the viewer reads in full on this case, the
    auditor included (one query): a note of another category is not told, not even that it exists."""
    categories = readable_categories(viewer.access(case))
    if not categories:
        return []
    notes = CaseNote.objects.filter(case=case, category__in=categories).select_related("author")
    return [
        Event(
            at=note.created_at,
            kind=Kind.NOTE,
            title=f"{note.get_kind_display()} {_('du')} {french_date(note.contact_date)}"
            + (f" ({_('correction d’une note précédente')})" if note.corrects_id else ""),
            actor=who(note.author),
            reason=f"{_('Visibilité')} : {CATEGORY_LABELS[note.category]}",
            detail=note.text,
        )
        for note in notes.order_by("created_at", "pk")
    ]


# --- reads -----------------------------------------------------------------------------------------


@register_source(Kind.READ)
def read_events(case, viewer) -> list[Event]:
    if not viewer.full:
        return []
    return [
        Event(
            at=log.at,
            kind=Kind.READ,
            title=f"{_('Consultation')} : {log.get_section_display()}"
            + (f" ({_('accès exceptionnel')})" if log.is_break_glass else ""),
            actor=who(log.user),
            reason=log.reason,
        )
        for log in AccessLog.objects.filter(case=case).select_related("user")
    ]


# --- notifications ---------------------------------------------------------------------------------


@register_source(Kind.NOTIFICATION)
def notification_events(case, viewer) -> list[Event]:
    """Notifications of the case, when the notifications app has a Notification model with a case.

    The notifications app may instead register its own source with `register_source`.
    """
    try:
        model = apps.get_model("notifications", "Notification")
    except LookupError:
        return []
    names = {f.name for f in model._meta.get_fields()}
    if "case" not in names:
        return []
    sent_field = next((n for n in ("sent_at", "created_at", "created") if n in names), None)
    if sent_field is None:
        return []
    events = []
    items = model._default_manager.filter(case=case).exclude(**{f"{sent_field}__isnull": True})
    if "recipient" in names:
        items = items.select_related("recipient")
    for item in items:
        # Channel and recipient only: a message body may hold data the viewer may not see.
        channel = item.get_channel_display() if hasattr(item, "get_channel_display") else ""
        recipient = who(item.recipient) if "recipient" in names and item.recipient_id else ""
        title = " – ".join(p for p in (str(_("Notification envoyée")), channel, recipient) if p)
        events.append(Event(at=getattr(item, sent_field), kind=Kind.NOTIFICATION, title=title))
    return events
