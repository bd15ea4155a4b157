"""Worklists: the filters, the search, the rows and the exports shared by the case list and the task lists.

- Filters live in the query string as short codes (bookmarkable): ?etape=committee&echeance=en-retard&dalo30=oui.
- The free-text search never does (issue 22, part 5: query strings end up in access logs): the form is
  POSTed, the terms are kept in the session under a random token, and the list is shown at
  ?recherche=<token>&<the other filters>.
- Rows show what the visibility matrix lets the user read, cell by cell (permissions.presenters);
  due dates come from workflows.deadlines (through workflows.queries.open_steps_due), the DALO
  deadline from the case (cases/deadlines.py computes it).
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import django_filters
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Task

from audit import reads as audit_reads
from audit.chain import chained_at_end
from audit.models import Section
from cases import choices, tabular
from cases.models import Case, CaseCriterion
from permissions.policy import (
    LIST_COUNT_CAP,
    capped_count,
    memberships_of,
    policy,
    record_case_read,
    roles_of,
    search_cases,
)
from permissions.presenters import MASKED, VisibleCase
from permissions.queues import PAGE_SIZE as TASK_PAGE_SIZE
from permissions.queues import filtered_tasks, task_inbox_for, task_queue_for
from permissions.roles import Role
from permissions.visibility import Category, can_see_category, can_see_field, case_accesses
from workflows.deadlines import DueInfo, due_infos
from workflows.models import ACTIVE
from workflows.queries import DUE_SCAN_CAP, open_steps_due

export_log = logging.getLogger("ppgdid.access.read")

SEARCH_PARAM = "recherche"
SEARCH_SESSION_KEY = "ppgdid_searches"
SEARCHES_KEPT = 20
DALO_RISK_DAYS = 30
YES_NO = (("oui", gettext_lazy("Oui")), ("non", gettext_lazy("Non")))
DUE_CHOICES = (("en-retard", gettext_lazy("En retard")), ("semaine", gettext_lazy("À échéance sous 7 jours")))
SORT_CHOICES = (
    ("echeance", gettext_lazy("Échéance de l'étape")),
    ("attente", gettext_lazy("En attente depuis")),
    ("dalo", gettext_lazy("Échéance DALO")),
)


# --- the search, by token ---------------------------------------------------------------------------


def store_search(request, text: str) -> str:
    """Keep the terms in the session; return the opaque token that stands for them in the URL."""
    text = " ".join(text.split())[:100]
    if not text:
        return ""
    searches = request.session.get(SEARCH_SESSION_KEY, {})
    token = secrets.token_urlsafe(9)
    searches[token] = text
    request.session[SEARCH_SESSION_KEY] = dict(list(searches.items())[-SEARCHES_KEPT:])
    return token


def search_text(request) -> str:
    """The terms behind ?recherche=<token>; nothing for an unknown or expired token."""
    return request.session.get(SEARCH_SESSION_KEY, {}).get(request.GET.get(SEARCH_PARAM, ""), "")


def search_redirect_query(request) -> str:
    """The query string to redirect to after a POSTed search: the filters of the form, and the token."""
    query = request.GET.copy()
    for name in [n for n in query if n.startswith("page")] + [SEARCH_PARAM, "q"]:
        query.pop(name, None)
    for name in CaseFilter.base_filters:
        value = request.POST.get(name, "")
        if value:
            query[name] = value
        else:
            query.pop(name, None)
    token = store_search(request, request.POST.get("q", ""))
    if token:
        query[SEARCH_PARAM] = token
    return query.urlencode()


# --- the filters --------------------------------------------------------------------------------------


def _yes_no(field):
    def apply(queryset, _name, value):
        return queryset.filter(**{field: value == "oui"})

    return apply


class CaseFilter(django_filters.FilterSet):
    """The worklist filters, as codes. Filters on data the user may not read are not offered (a filter
    on a hidden value would reveal it); `echeance` and `tri` are applied by `worklist` (due dates)."""

    etape = django_filters.ChoiceFilter(
        field_name="status",
        label=gettext_lazy("Étape"),
        choices=choices.CaseStatus.choices,
        empty_label=gettext_lazy("Toutes"),
    )
    etat = django_filters.ChoiceFilter(
        label=gettext_lazy("État"),
        choices=(("ouverts", gettext_lazy("Ouverts")), ("clos", gettext_lazy("Clos"))),
        empty_label=gettext_lazy("Tous"),
        method="filter_state",
    )
    echeance = django_filters.ChoiceFilter(
        label=gettext_lazy("Échéance de l'étape"),
        choices=DUE_CHOICES,
        empty_label=gettext_lazy("Toutes"),
        method="later",
    )
    commune = django_filters.CharFilter(
        label=gettext_lazy("Commune (nom ou code INSEE)"), max_length=60, method="filter_commune"
    )
    critere = django_filters.ChoiceFilter(
        label=gettext_lazy("Critère de priorité"),
        choices=choices.PriorityCriterion.choices,
        empty_label=gettext_lazy("Tous"),
        method="filter_criterion",
    )
    dalo = django_filters.ChoiceFilter(
        label=gettext_lazy("DALO"), choices=YES_NO, empty_label=gettext_lazy("Tous"), method=_yes_no("is_dalo")
    )
    dalo30 = django_filters.ChoiceFilter(
        label=gettext_lazy("Échéance DALO"),
        choices=(("oui", gettext_lazy("Dans les 30 jours ou dépassée")),),
        empty_label=gettext_lazy("Toutes"),
        method="filter_dalo_risk",
    )
    protege = django_filters.ChoiceFilter(
        label=gettext_lazy("Dossier protégé"),
        choices=YES_NO,
        empty_label=gettext_lazy("Tous"),
        method=_yes_no("is_protected"),
    )
    referent = django_filters.ChoiceFilter(
        label=gettext_lazy("Référent"),
        choices=(("moi", gettext_lazy("Moi")),),
        empty_label=gettext_lazy("Tous"),
        method="filter_referent",
    )
    organisation = django_filters.ChoiceFilter(
        label=gettext_lazy("Organisation référente"),
        choices=(("mienne", gettext_lazy("Mon organisation")),),
        empty_label=gettext_lazy("Toutes"),
        method="filter_organisation",
    )
    tri = django_filters.ChoiceFilter(
        label=gettext_lazy("Trier par"),
        choices=SORT_CHOICES,
        empty_label=gettext_lazy("Les plus récents"),
        method="later",
    )

    def __init__(self, data=None, queryset=None, *, request=None, user=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        self.user = user
        roles = roles_of(user)
        if not can_see_field(roles, "cases.household", "commune"):
            del self.filters["commune"]
        if not can_see_category(roles, Category.CRITERIA):
            for name in ("critere", "dalo", "dalo30", "protege"):
                del self.filters[name]

    def later(self, queryset, _name, _value):
        return queryset

    def filter_state(self, queryset, _name, value):
        return queryset.filter(closed_at__isnull=value == "ouverts")

    def filter_commune(self, queryset, _name, value):
        value = value.strip()
        where = (
            Q(household__commune_id=value)
            if value.isdigit() or value[:2] in ("2A", "2B")
            else Q(household__commune__name__iexact=value)
        )
        # A protected household's commune is masked from most readers: filtering on it would reveal it.
        return queryset.filter(where).filter(unmasked_q(self.user))

    def filter_criterion(self, queryset, _name, value):
        return queryset.filter(Exists(CaseCriterion.objects.filter(case=OuterRef("pk"), code=value)))

    def filter_dalo_risk(self, queryset, _name, _value):
        return queryset.filter(dalo_risk_q())

    def filter_referent(self, queryset, _name, _value):
        return queryset.filter(referent=self.user)

    def filter_organisation(self, queryset, _name, _value):
        return queryset.filter(organisation_id__in={g.organisation_id for g in memberships_of(self.user)})

    class Meta:
        model = Case
        fields: list = []


def dalo_risk_q(today: date | None = None) -> Q:
    """Open DALO cases whose offer deadline (R441-16-1 CCH, cases/deadlines.py) is within 30 days or past."""
    today = today or timezone.localdate()
    return Q(
        is_dalo=True,
        closed_at__isnull=True,
        dalo_offer_deadline__isnull=False,
        dalo_offer_deadline__lte=today + timedelta(days=DALO_RISK_DAYS),
    )


def unmasked_q(user) -> Q:
    """Cases whose protected data this user reads unmasked (visibility.case_access, without the
    break-the-glass accesses, which open one case, not a list filter)."""
    supervised = {g.organisation_id for g in memberships_of(user) if g.role == Role.SUPERVISOR}
    return Q(is_protected=False) | Q(referent=user) | Q(organisation_id__in=supervised)


def due_matches(info: DueInfo, code: str, today: date) -> bool:
    if code == "en-retard":
        return info.overdue
    if code == "semaine":
        return info.due_date is not None and not info.overdue and info.due_date <= today + timedelta(days=7)
    return True


# --- rows ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    case: Case
    name: str
    commune: str
    step: str
    due: DueInfo | None
    waiting_since: object
    task: object = None

    @property
    def dalo_deadline(self):
        return self.case.dalo_offer_deadline if self.case.is_dalo and self.case.is_open else None


def _name(values: dict) -> str:
    last, first = values.get("applicant_last_name"), values.get("applicant_first_name")
    if last is None and first is None:
        return "—"
    if last == MASKED or first == MASKED:
        return str(MASKED)
    return f"{str(last).upper()} {first}"


def build_rows(user, cases, columns, steps: dict, *, section: str = "list") -> list[Row]:
    """One row per case, in the order given. `cases` carry the policy's reach columns (`columns`, from
    policy.annotate_reach); `steps`: {case pk: (task, DueInfo)}. Reads are logged as the rules require."""
    accesses = case_accesses(user, cases, columns=columns)
    return [_row(user, case, accesses[case.pk], *steps.get(case.pk, (None, None)), section) for case in cases]


def _row(user, case, access, task, info, section: str) -> Row:
    record_case_read(user, case, section)
    values = VisibleCase(user, case, access=access).list_row()
    commune = values.get("commune")
    return Row(
        case=case,
        name=_name(values),
        commune=str(commune) if commune is not None else "—",
        step=task.flow_task.task_title if task else case.status_label,
        due=info,
        waiting_since=task.created if task else None,
        task=task,
    )


EXPORT_HEADER = (
    gettext_lazy("Référence"),
    gettext_lazy("Ménage"),
    gettext_lazy("Commune"),
    gettext_lazy("Étape"),
    gettext_lazy("Échéance"),
    gettext_lazy("En retard"),
    gettext_lazy("Échéance DALO"),
    gettext_lazy("En attente depuis"),
)


def export_rows(rows):
    yield [str(h) for h in EXPORT_HEADER]
    for row in rows:
        due = row.due.due_date if row.due else None
        yield [
            row.case.reference,
            row.name,
            row.commune,
            str(row.step),
            due,
            _("oui") if row.due and row.due.overdue else "",
            row.dalo_deadline,
            timezone.localtime(row.waiting_since).date() if row.waiting_since else None,
        ]


def export(user, rows, fmt: str, name: str, basename: str) -> HttpResponse:
    """Every list's export: the rows' visible cells as CSV or XLSX, logged as a read of each row."""
    log_export(user, rows, name, fmt)
    return export_response(rows, fmt, basename)


def export_response(rows, fmt: str, basename: str) -> HttpResponse:
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        response = HttpResponse(tabular.as_csv(export_rows(rows)), content_type=tabular.CSV_TYPE)
    else:
        response = HttpResponse(tabular.as_xlsx(export_rows(rows), basename), content_type=tabular.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{basename}-{stamp}.{fmt}"'
    return response


# --- the lists ----------------------------------------------------------------------------------------

CASE_PAGE_SIZE = 25
EXPORT_CAP = 5000


@dataclass
class Worklist:
    rows: list
    count: int  # capped at LIST_COUNT_CAP (or at the due scan) for display
    capped: bool
    page: object = None  # a Django Page of the case list
    number: int = 1
    has_next: bool = False


def page_number(value) -> int:
    value = str(value or "")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


def _choice(data: dict, name: str) -> str:
    return data.get(name) or ""


def case_worklist(user, filterset: CaseFilter, *, page=1, export: bool = False) -> Worklist:
    """The case list of a filter set (its queryset is the user's search scope), one page or the export.

    At most 8 queries: the count, the page (with the policy's reach columns), shares and break-the-glass,
    the open steps and their due dates (deadlines.due_infos); a due filter or sort reads the open
    steps first (at most DUE_SCAN_CAP, oldest first) and pages in Python."""
    filterset.is_valid()
    data = filterset.form.cleaned_data if filterset.is_bound else {}
    cases = filterset.qs
    due_code, sort = _choice(data, "echeance"), _choice(data, "tri")
    size = EXPORT_CAP if export else CASE_PAGE_SIZE
    if due_code or sort == "echeance":
        today = timezone.localdate()
        found = [
            (case_pk, task, info) for case_pk, task, info in open_steps_due(cases) if due_matches(info, due_code, today)
        ]
        if sort == "echeance":
            found.sort(key=lambda item: (item[2].due_date is None, item[2].due_date or today, item[1].created))
        steps = {case_pk: (task, info) for case_pk, task, info in reversed(found)}  # the first step wins
        ordered = list(dict.fromkeys(case_pk for case_pk, _t, _i in found))
        paginator = Paginator(ordered, size)
        page_obj = paginator.get_page(page)
        wanted = list(page_obj.object_list)
        scoped, columns = policy.annotate_reach(
            Case.objects.filter(pk__in=wanted).select_related(*VisibleCase.LIST_RELATED), user
        )
        by_pk = {c.pk: c for c in scoped}
        page_cases = [by_pk[pk] for pk in wanted if pk in by_pk]
        rows = build_rows(user, page_cases, columns, steps, section="export" if export else "list")
        return Worklist(
            rows, paginator.count, paginator.count >= DUE_SCAN_CAP, page_obj, page_obj.number, page_obj.has_next()
        )
    if sort == "attente":
        first_open = (
            Task.objects.filter(process__caseprocess__case=OuterRef("pk"), status__in=ACTIVE, flow_task_type="HUMAN")
            .order_by("created")
            .values("created")[:1]
        )
        cases = cases.annotate(waiting=Subquery(first_open)).order_by(F("waiting").asc(nulls_last=True), "pk")
    elif sort == "dalo":
        cases = cases.order_by(F("dalo_offer_deadline").asc(nulls_last=True), "pk")
    else:
        cases = cases.order_by("-created_at", "-pk")
    cases, columns = policy.annotate_reach(cases.select_related(*VisibleCase.LIST_RELATED), user)
    if export:
        page_cases = list(cases[:EXPORT_CAP])
        count, page_obj = len(page_cases), None
    else:
        paginator = CappedPaginator(cases, CASE_PAGE_SIZE)
        page_obj = paginator.get_page(page)
        page_cases, count = list(page_obj.object_list), paginator.count
    steps = {
        case_pk: (task, info)
        for case_pk, task, info in reversed(open_steps_due(Case.objects.filter(pk__in=[c.pk for c in page_cases])))
    }
    rows = build_rows(user, page_cases, columns, steps, section="export" if export else "list")
    if page_obj is None:
        return Worklist(rows, count, count >= EXPORT_CAP)
    return Worklist(rows, count, page_obj.paginator.capped, page_obj, page_obj.number, page_obj.has_next())


class CappedPaginator(Paginator):
    """Counts up to LIST_COUNT_CAP rows: a scope of 40,000 cases shows "plus de 1 000" (and asks to
    narrow the search) instead of counting every case on every page view."""

    cap = LIST_COUNT_CAP

    @property
    def count(self) -> int:
        if not hasattr(self, "_capped_count"):
            self._capped_count = capped_count(self.object_list, self.cap)
        return self._capped_count

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def case_filter(request) -> CaseFilter:
    """The filter set of a request: the user's search scope (policy.search_cases), then the filters."""
    user = request.user
    return CaseFilter(request.GET or None, search_cases(user, search_text(request)), user=user)


def log_export(user, rows, name: str, fmt: str) -> None:
    """An export is a read of every row: build_rows wrote the ids-only lines the rules require; the
    protected cases also go to the audit read log, as on the case page."""
    protected = [row.case for row in rows if row.case.is_protected]
    if protected:
        with transaction.atomic(), chained_at_end():  # one insert and one chain batch, whatever the rows
            audit_reads.log_reads(user, protected, Section.PROTECTED_CASE)
    export_log.info("list export user_id=%s list=%s format=%s rows=%s", user.pk, name, fmt, len(rows))


# --- the task lists -----------------------------------------------------------------------------------

TASK_LISTS = ("mine", "available")  # my steps (the inbox), my team's available steps (the queue)
TASK_ROW_RELATED = tuple(f"process__caseprocess__case__{name}" for name in VisibleCase.LIST_RELATED)


class TaskFilter(CaseFilter):
    """The filters of the task lists: those of the case list but the case state (a step is open)."""

    tri = django_filters.ChoiceFilter(
        label=gettext_lazy("Trier par"),
        choices=SORT_CHOICES,
        empty_label=gettext_lazy("Les plus anciennes d'abord"),
        method="later",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.filters["etat"]


def task_filter(request) -> TaskFilter:
    user = request.user
    return TaskFilter(request.GET or None, search_cases(user, search_text(request)), user=user)


def _reach_on_tasks(user):
    """A function adding the policy's reach columns (policy.annotate_reach) and the row's relations
    to a task queryset, so that the visibility of the rows costs no query of its own; the columns."""
    reach, columns = policy.annotate_reach(Case.objects.filter(pk=OuterRef("process__caseprocess__case")), user)

    def prepare(tasks):
        return tasks.select_related(*TASK_ROW_RELATED).annotate(
            **{name: Subquery(reach.values(name)[:1]) for name, _g in columns}
        )

    return prepare, columns


def task_worklists(
    user, filterset: TaskFilter, *, lists=TASK_LISTS, pages=None, searching: bool = False, export: bool = False
) -> dict[str, Worklist]:
    """My steps ("mine") and my team's available steps ("available"), one Worklist each (no total
    count: it is what costs). Without filters nor search, the pages of permissions.queues (the grant
    walk); with them, permissions.queues.filtered_tasks, the due filter and sort applied in Python on
    at most DUE_SCAN_CAP steps. One batch of due dates and one of visibility for all the lists."""
    filterset.is_valid()
    data = filterset.form.cleaned_data if filterset.is_bound else {}
    due_code, sort = _choice(data, "echeance"), _choice(data, "tri")
    narrowed = any(data.values()) or searching or export
    prepare, columns = _reach_on_tasks(user)
    pages = pages or {}
    fetched = {}  # key: (tasks, page number, already one page)
    for key in lists:
        mine = key == "mine"
        page = page_number(pages.get(key))
        if not narrowed:
            fetched[key] = (list((task_inbox_for if mine else task_queue_for)(user, page, prepare=prepare)), page, True)
            continue
        tasks = prepare(filtered_tasks(user, filterset.qs, mine=mine))
        if sort == "dalo":
            tasks = tasks.order_by(
                F("process__caseprocess__case__dalo_offer_deadline").asc(nulls_last=True), "created", "pk"
            )
        if export or due_code or sort == "echeance":
            fetched[key] = (list(tasks[: EXPORT_CAP if export else DUE_SCAN_CAP]), page, False)
        else:
            offset = (page - 1) * TASK_PAGE_SIZE
            fetched[key] = (list(tasks[offset : offset + TASK_PAGE_SIZE + 1]), page, True)
    infos = due_infos([task for tasks, _p, _one in fetched.values() for task in tasks])
    today = timezone.localdate()
    shown = {}
    for key, (tasks, page, one_page) in fetched.items():
        if not one_page:
            tasks = [t for t in tasks if due_matches(infos[t.pk], due_code, today)]
            if sort == "echeance":
                tasks.sort(key=lambda t: (infos[t.pk].due_date is None, infos[t.pk].due_date or today, t.created))
            if not export:
                tasks = tasks[(page - 1) * TASK_PAGE_SIZE :]
        shown[key] = (tasks if export else tasks[:TASK_PAGE_SIZE], page, not export and len(tasks) > TASK_PAGE_SIZE)
    cases = {}
    for tasks, _p, _n in shown.values():
        for task in tasks:
            case = task.process.caseprocess.case
            for name, _g in columns:
                setattr(case, name, getattr(task, name))
            cases.setdefault(case.pk, case)
    accesses = case_accesses(user, cases.values(), columns=columns)
    section = "export" if export else "list"
    return {
        key: Worklist(
            [
                _row(user, t.process.caseprocess.case, accesses[t.process.caseprocess.case_id], t, infos[t.pk], section)
                for t in tasks
            ],
            len(tasks),
            False,
            None,
            page,
            has_next,
        )
        for key, (tasks, page, has_next) in shown.items()
    }
