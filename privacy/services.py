"""Retention: which cases are due under which rule, legal holds, and the anonymisation itself.

A case is due for a category when it was closed at least the category's months ago (the
département's rule, else privacy.rules.DEFAULTS), no legal hold on it is active, and its household
has no other case still open, held, or closed more recently than that (the household's identity is
shared by its cases). Anonymising rewrites the live rows through audit.bulk (one history row each,
chained) and every history row of those rows through audit.bulk.redact_history_rows (a redaction
chained after each, which verify_audit_chain accepts). Each anonymised case is announced by
cases.events.case_anonymised, inside the transaction, for the records of other top packages.
"""

import logging
from dataclasses import dataclass, field
from functools import partial

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.bulk import bulk_create_with_history, bulk_update_with_history, redact_history_rows
from cases.audit import acting_as, system_actor
from cases.events import case_anonymised
from cases.models import Case, Proposal

from .models import Anonymisation, LegalHold, rules_for
from .rules import DOCUMENT_CATEGORIES, SCRUB, category_label

log = logging.getLogger("ppgdid.privacy")

BATCH = 200  # cases per transaction


# --- which rows of a case a model holds ---------------------------------------------------------


@dataclass
class CaseKeys:
    """Ids through which the rows of some cases are found, in live and history tables alike."""

    case_ids: list
    household_ids: list = field(default_factory=list)
    proposal_ids: list = field(default_factory=list)
    item_ids: list = field(default_factory=list)
    procedure_ids: list = field(default_factory=list)

    @classmethod
    def of(cls, case_ids):
        case_ids = list(case_ids)
        keys = cls(case_ids=case_ids)
        keys.household_ids = list(Case.objects.filter(pk__in=case_ids).values_list("household_id", flat=True))
        keys.proposal_ids = list(Proposal.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))
        if apps.is_installed("committees"):
            AgendaItem = apps.get_model("committees", "AgendaItem")
            WrittenProcedure = apps.get_model("committees", "WrittenProcedure")
            keys.item_ids = list(AgendaItem.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))
            keys.procedure_ids = list(
                WrittenProcedure.objects.filter(case_id__in=case_ids).values_list("pk", flat=True)
            )
        return keys


def rows_filter(label: str, keys: CaseKeys) -> Q:
    """Filter (on column attnames, valid for the live table and its history table) of a model's rows
    belonging to the cases."""
    if label == "cases.case":
        return Q(id__in=keys.case_ids)
    if label == "cases.household":
        return Q(id__in=keys.household_ids)
    if label == "cases.householdmember":
        return Q(household_id__in=keys.household_ids)
    if label in ("cases.caleoldecision", "cases.householdreply"):
        return Q(proposal_id__in=keys.proposal_ids)
    if label == "committees.vote":
        return Q(item_id__in=keys.item_ids) | Q(procedure_id__in=keys.procedure_ids)
    return Q(case_id__in=keys.case_ids)


def _model(label):
    try:
        return apps.get_model(label)
    except LookupError:  # an optional app not installed
        return None


# --- due cases -------------------------------------------------------------------------------------


def active_holds():
    return LegalHold.objects.filter(case=OuterRef("pk"), lifted_at__isnull=True)


def due_cases(category: str, departement: str, months: int, now=None):
    """Closed cases of a département due for `category` at `now` (see module docstring)."""
    now = now or timezone.now()
    cutoff = now - relativedelta(months=months)
    blocking = Case.objects.filter(household=OuterRef("household")).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gt=cutoff) | Exists(active_holds())
    )
    return (
        Case.objects.filter(closed_at__isnull=False, closed_at__lte=cutoff, household__commune__departement=departement)
        .exclude(Exists(blocking))
        .exclude(anonymisations__category=category)
        .order_by("pk")
    )


def departements():
    """Départements with closed cases (a household without a commune has no territory: no rule)."""
    return sorted(
        set(Case.objects.filter(closed_at__isnull=False).values_list("household__commune__departement", flat=True))
    )


@dataclass
class PlanLine:
    departement: str
    category: str
    months: int
    source: str
    confirmed: bool
    case_ids: list

    @property
    def label(self):
        return category_label(self.category)


def plan(now=None) -> list[PlanLine]:
    """What would be anonymised now, by rule (département × category)."""
    lines = []
    for dep in departements():
        for category, (months, source, confirmed) in rules_for(dep).items():
            if months is None or category not in SCRUB:
                continue
            ids = list(due_cases(category, dep, months, now).values_list("pk", flat=True))
            if ids:
                lines.append(PlanLine(dep, category, months, source, confirmed, ids))
    return lines


def held_case_ids(now=None) -> list:
    """Closed cases that a rule would reach but an active legal hold suspends (DPO's status view)."""
    return list(
        Case.objects.filter(closed_at__isnull=False)
        .filter(Exists(active_holds()))
        .values_list("pk", flat=True)
        .order_by("pk")
    )


def count_rows(line: PlanLine) -> dict:
    """{model label: (live rows, history rows)} the rule would touch (dry run)."""
    keys = CaseKeys.of(line.case_ids)
    result = {}
    for label in SCRUB[line.category]:
        model = _model(label)
        if model is None:
            continue
        where = rows_filter(label, keys)
        result[label] = (
            model._default_manager.filter(where).count(),
            model.history.model.objects.filter(where).count(),
        )
    return result


# --- anonymisation ---------------------------------------------------------------------------------


def rule_name(line_or_category, months=None, departement=None) -> str:
    if isinstance(line_or_category, PlanLine):
        line = line_or_category
        line_or_category, months, departement = line.category, line.months, line.departement
    return f"conservation {line_or_category} {months} mois ({departement})"[:100]


def _scrubbed(fns: dict, row: dict) -> dict:
    return {name: fn(row) for name, fn in fns.items()}


def anonymise_cases(case_ids, category: str, rule: str, *, now=None) -> dict:
    """Apply one category's scrub to some cases: live rows, every history row, documents. One transaction.

    Returns counts {"live": n, "history": n, "documents": n}. Cases already done for the category or
    under an active legal hold (re-checked under lock) are skipped.
    """
    counts = {"live": 0, "history": 0, "documents": 0}
    actor = system_actor()
    with transaction.atomic(), acting_as(actor, _("Anonymisation : %(rule)s") % {"rule": rule}):
        cases = list(
            Case.objects.select_for_update()
            .filter(pk__in=list(case_ids))
            .exclude(Exists(active_holds()))
            .exclude(anonymisations__category=category)
        )
        ids = [c.pk for c in cases]
        if not ids:
            return counts
        keys = CaseKeys.of(ids)
        if category in DOCUMENT_CATEGORIES:  # before the scrub empties the file fields
            counts["documents"] += delete_documents(keys)
        for label, fns in SCRUB[category].items():
            model = _model(label)
            if model is None:
                continue
            where = rows_filter(label, keys)
            columns = [n for n in fns if not _is_m2m(model, n)]
            lists = [n for n in fns if _is_m2m(model, n)]
            # History rows first: the live rows' own new history row is written scrubbed.
            history = model.history.model
            changes = {}
            for row in history.objects.filter(where).values():
                new = _scrubbed(fns, row)
                # Rows already holding the scrubbed values are left alone (no digest work); lists are
                # checked by redact_history_rows.
                if lists or any(row[n] != v for n, v in new.items() if n in columns):
                    changes[row["history_id"]] = new
            counts["history"] += redact_history_rows(history, changes, rule=rule, actor_id=actor.pk)
            objs = []
            live = list(model._default_manager.filter(where))
            listed = {name: _with_items(model, name, live) for name in lists}
            for obj in live:
                row = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
                new = _scrubbed({n: fns[n] for n in columns}, row)
                dirty = {n: v for n, v in new.items() if row[n] != v}
                if dirty:
                    for name, value in dirty.items():
                        setattr(obj, name, value)
                    objs.append(obj)
                for name in lists:
                    if obj.pk in listed[name]:
                        getattr(obj, name).clear()  # m2m_changed: its own history row
                        counts["live"] += 1
            if objs and columns:
                bulk_update_with_history(objs, model, columns, reason=rule)
                counts["live"] += len(objs)
        # Records kept by the layers beside privacy (steering's allocations) are scrubbed by their own
        # receivers, in this transaction.
        for case in cases:
            case_anonymised.send(sender=Case, case=case, rule=rule)
        bulk_create_with_history(
            [Anonymisation(case_id=pk, category=category, rule=rule, applied_at=now or timezone.now()) for pk in ids],
            Anonymisation,
            reason=rule,
        )
    return counts


def _with_items(model, name, objs) -> set:
    """Pks of `objs` whose m2m list `name` holds something (one query)."""
    field = model._meta.get_field(name)
    through = field.remote_field.through
    owner = field.m2m_field_name()
    return set(through._default_manager.filter(**{f"{owner}__in": [o.pk for o in objs]}).values_list(owner, flat=True))


def _is_m2m(model, name) -> bool:
    try:
        return model._meta.get_field(name).many_to_many
    except Exception:  # noqa: BLE001
        return False


def file_fields():
    """(model, [FileField]) of every model linked to a case that stores files."""
    for model in apps.get_models():
        names = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        if names and any(f.name == "case" for f in model._meta.concrete_fields):
            yield model, names


def delete_documents(keys: CaseKeys) -> int:
    """Empty the file fields of these cases (with history) and delete the files from storage once the
    anonymisation commits: a rolled-back batch must not lose files its rows still name."""
    deleted = 0
    for model, fields in file_fields():
        objs = []
        for obj in model._default_manager.filter(case_id__in=keys.case_ids):
            changed = False
            for f in fields:
                stored = getattr(obj, f.attname)
                if stored:
                    transaction.on_commit(partial(stored.storage.delete, stored.name))
                    setattr(obj, f.attname, "")
                    deleted += 1
                    changed = True
            if changed:
                objs.append(obj)
        if objs:
            bulk_update_with_history(objs, model, [f.name for f in fields], reason="documents supprimés")
    return deleted


def apply_retention(now=None, dry_run=False, progress=None) -> list[tuple[PlanLine, dict]]:
    """Every rule due now, in batches of BATCH cases. `progress(total)` returns an object with
    `update(n)` (a progress bar); the counts per rule are returned."""
    lines = plan(now)
    results = []
    total = sum(len(line.case_ids) for line in lines)
    bar = progress(total) if progress else None
    for line in lines:
        if dry_run:
            results.append((line, count_rows(line)))
            continue
        totals = {"live": 0, "history": 0, "documents": 0}
        for start in range(0, len(line.case_ids), BATCH):
            chunk = line.case_ids[start : start + BATCH]
            counts = anonymise_cases(chunk, line.category, rule_name(line), now=now)
            for k, v in counts.items():
                totals[k] += v
            if bar:
                bar.update(len(chunk))
        log.info(
            "retention applied departement=%s category=%s cases=%s live=%s history=%s documents=%s",
            line.departement,
            line.category,
            len(line.case_ids),
            totals["live"],
            totals["history"],
            totals["documents"],
        )
        results.append((line, totals))
    return results


# --- legal hold ------------------------------------------------------------------------------------


def place_hold(user, case, kind: str, reason: str) -> LegalHold:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Indiquez le motif du gel (contentieux, recours DALO…).")})
    if kind not in LegalHold.Kind.values:
        raise ValidationError({"kind": _("Motif de gel inconnu.")})
    with transaction.atomic(), acting_as(user, _("Gel légal posé")):
        Case.objects.select_for_update().filter(pk=case.pk).first()
        if case.anonymisations.exists():
            raise ValidationError(_("Ce dossier est déjà anonymisé : le gel ne peut plus rien conserver."))
        return LegalHold.objects.create(case=case, kind=kind, reason=reason, placed_by=user)


def lift_hold(user, hold: LegalHold, reason: str) -> LegalHold:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"lift_reason": _("Indiquez pourquoi le gel est levé.")})
    if hold.lifted_at:
        raise ValidationError(_("Ce gel est déjà levé."))
    with transaction.atomic(), acting_as(user, _("Gel légal levé")):
        hold.lifted_at, hold.lifted_by, hold.lift_reason = timezone.now(), user, reason
        hold.save()
    return hold


def retention_status(case, now=None) -> str:
    """ "done", "held", "due", "active" (open, or closed and not yet due)."""
    if case.anonymisations.exists():
        return "done"
    if case.legal_holds.filter(lifted_at__isnull=True).exists():
        return "held"
    if case.closed_at is None:
        return "active"
    now = now or timezone.now()
    dep = case.household.commune.departement if case.household.commune_id else ""
    for category, (months, _source, _confirmed) in rules_for(dep).items():
        if months is not None and category in SCRUB and due_cases(category, dep, months, now).filter(pk=case.pk):
            return "due"
    return "active"
