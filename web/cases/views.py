"""Case pages: the list of cases in scope, the case page, flagging a new household, closing."""

import re

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.forms import BaseFormSet
from django.forms.utils import ErrorDict
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from cases import formats
from cases.forms_common import attach_errors
from cases.models import Case, Diagnostic, Household, HouseholdMember
from documents.selectors import case_panel
from permissions.policy import (
    Action,
    log_denial,
    policy,
    roles_of,
    search_cases,
)
from permissions.reads import log_sensitive_reads
from permissions.visibility import Category, can_see_category, can_see_field, case_access, visible_fields
from web import worklists
from web.tasks import handover
from web.tasks.forms import CloseForm
from web.tasks.views import scoped_case
from workflows import notes, queries, services

from .forms import CaseOptionsForm, CriterionFormSet, DaloForm, HouseholdForm, MemberFormSet

NOTES_ON_CASE_PAGE = 5


REFERENCE = re.compile(r"^PP-\d{4}-(\d{1,9})$", re.IGNORECASE)


def display(obj, field) -> str:
    """A field's value as shown to a person (choices by label, yes/no, lists)."""
    if field.many_to_many:
        return ", ".join(str(o) for o in getattr(obj, field.name).all()) or "—"
    value = getattr(obj, field.name)
    if field.choices:
        value = getattr(obj, f"get_{field.name}_display")()
    if isinstance(field, models.BooleanField):
        return {True: _("Oui"), False: _("Non"), None: "—"}[value]
    if value in (None, ""):
        return "—"
    if isinstance(field, models.DateTimeField):
        return formats.french_datetime(value)
    if isinstance(field, models.DateField):
        return formats.french_date(value)
    if isinstance(field, models.DecimalField):
        return formats.amount(value)  # the label says the unit (€, €/mois)
    return str(value)


def rows(obj, names) -> list[tuple[str, str]]:
    return [(obj._meta.get_field(n).verbose_name, display(obj, obj._meta.get_field(n))) for n in names]


class CaseListView(LoginRequiredMixin, View):
    """The case list: filters as codes in the URL, the search by POST behind a token (web/worklists.py)."""

    def get(self, request):
        user = request.user
        filterset = worklists.CaseFilter(
            request.GET or None, search_cases(user, worklists.search_text(request)), user=user
        )
        worklist = worklists.case_worklist(user, filterset, page=request.GET.get("page"))
        filters = request.GET.copy()
        filters.pop("page", None)
        without_search = filters.copy()
        without_search.pop(worklists.SEARCH_PARAM, None)
        return render(
            request,
            "cases/list.html",
            {
                "nav": "cases",
                "worklist": worklist,
                "filterset": filterset,
                "searching": bool(worklists.search_text(request)),
                "filters": filters.urlencode(),
                "without_search": without_search.urlencode(),
                "cap": worklists.LIST_COUNT_CAP,
                "can_flag": services.can_flag(user),
            },
        )

    def post(self, request):
        """The search form: the terms go to the session, the URL gets a token (never the terms)."""
        return redirect(f"{reverse('cases:list')}?{worklists.search_redirect_query(request)}")


class CaseExportView(LoginRequiredMixin, View):
    """The filtered case list as CSV or XLSX: the cells the user may read, each row a logged read."""

    def get(self, request, fmt):
        if fmt not in ("csv", "xlsx"):
            raise Http404
        user = request.user
        filterset = worklists.CaseFilter(
            request.GET or None, search_cases(user, worklists.search_text(request)), user=user
        )
        worklist = worklists.case_worklist(user, filterset, export=True)
        return worklists.export(user, worklist.rows, fmt, "case_list", "dossiers")


def case_context(request, case, close_form=None) -> dict:
    user = request.user
    # The access through which the user reaches this case (not all their roles): the visibility
    # helpers below take it in place of a role set.
    roles = case_access(user, case)
    protected = case.is_protected
    household = case.household
    see_decisions = can_see_category(roles, Category.DECISIONS)
    diagnostic_fields = visible_fields(roles, Diagnostic, protected=protected)
    # The lists of communes are read only when the user may see them.
    shown_lists = [f.name for f in Diagnostic._meta.many_to_many if f.name in diagnostic_fields]
    diagnostic = Diagnostic.objects.prefetch_related(*shown_lists).filter(case=case).first()
    criterion_records = list(case.criteria.all())  # read once: the page and its read log use them
    open_task = queries.active_task(case)
    member_fields = visible_fields(roles, HouseholdMember, protected=protected)
    members = [rows(m, member_fields) for m in household.members.all()] if member_fields else []
    criteria = []
    if can_see_field(roles, "cases.casecriterion", "code", protected=protected):
        show_note = can_see_field(roles, "cases.casecriterion", "evidence_note", protected=protected)
        criteria = [
            {
                "code": c.get_code_display(),
                "source": c.get_source_display(),
                "note": c.evidence_note if show_note else None,
            }
            for c in criterion_records
        ]
    can_close = case.is_open and policy.can(user, Action.CLOSE, case)
    return {
        "nav": "cases",
        "case": case,
        "case_rows": rows(case, [n for n in visible_fields(roles, Case, protected=protected) if n != "status"]),
        "household_rows": rows(household, visible_fields(roles, Household, protected=protected)),
        "member_header": [HouseholdMember._meta.get_field(n).verbose_name for n in member_fields],
        "members": members,
        "diagnostic_rows": rows(diagnostic, diagnostic_fields) if diagnostic else [],
        "diagnostic": diagnostic,
        "criterion_records": criterion_records,
        "criteria": criteria,
        "show_criteria": bool(criteria) or can_see_field(roles, "cases.casecriterion", "code", protected=protected),
        # The committee's free text travels with the synthesis (permissions/visibility.py).
        "show_review_text": can_see_field(roles, "cases.committeereview", "reason"),
        "reviews": case.committee_reviews.select_related("designated_landlord", "target_reservataire")
        if see_decisions
        else None,
        "proposals": case.proposals.select_related(
            "dwelling__commune", "dwelling__landlord", "caleol_decision", "reply"
        ).order_by("created_at", "pk")
        if see_decisions
        else None,
        "open_task": open_task,
        "can_do_open_task": open_task is not None and queries.can_do(user, open_task),
        # A ranked household waits for a better-ranked one: the reply step is open but cannot be done.
        "waiting": queries.waiting_for(case) if open_task is not None and open_task.flow_task.name == "reply" else None,
        "done_steps": queries.done_steps(case),
        "can_close": can_close,
        "close_form": close_form or (CloseForm() if can_close else None),
        "can_change": case.is_open and policy.can(user, Action.CHANGE, case),
        # Notes section (templates/cases/_notes.html): one query; its reads join the page's read log.
        "case_notes": notes.visible_notes(user, case, roles, limit=NOTES_ON_CASE_PAGE, log=False),
        "may_write_notes": case.is_open and bool(set(roles.roles) & notes.NOTE_WRITERS),
        **handover.step_actions(user, open_task),
        "documents": case_panel(user, case, roles),
    }


class CaseDetailView(LoginRequiredMixin, View):
    def get(self, request, pk):
        case = scoped_case(request, pk)
        context = case_context(request, case)
        log_case_page_reads(
            request.user,
            case,
            context["diagnostic"],
            context["criterion_records"],
            also_shown={note.category for note in context["case_notes"]},
        )
        return render(request, "cases/detail.html", context)


def log_case_page_reads(user, case, diagnostic, criteria, also_shown=()) -> None:
    """Log the sensitive sections this page showed with something in them (audit read log).

    `diagnostic` and `criteria` are the case's records as the page read them (not read again)."""
    roles = roles_of(user)
    shown = set()
    for category, fields in SENSITIVE_FIELDS.items():
        if not can_see_category(roles, category, protected=case.is_protected):
            continue
        if diagnostic and any(getattr(diagnostic, f) for f in fields["diagnostic"]):
            shown.add(category)
        if any(getattr(c, f) for c in criteria for f in fields.get("criterion", ())):
            shown.add(category)
    log_sensitive_reads(user, case, shown | set(also_shown))


# Free-text fields of the case page whose display counts as a sensitive read.
SENSITIVE_FIELDS = {
    Category.HEALTH: {"diagnostic": ["health_autonomy"]},
    Category.VIOLENCE: {"diagnostic": ["violence_facts"]},
    Category.NARRATIVE: {
        "diagnostic": ["social_narrative", "family_situation", "housing_history", "independent_living"],
        "criterion": ["evidence_note"],
    },
}


class CaseCloseView(LoginRequiredMixin, View):
    def post(self, request, pk):
        case = scoped_case(request, pk)
        form = CloseForm(request.POST)
        if form.is_valid():
            try:
                services.case_close(
                    actor=request.user,
                    case=case,
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                )
            except PermissionDenied:
                raise Http404 from None
            except services.StepConflict as conflict:
                messages.error(request, str(conflict))
                return redirect("cases:detail", pk=case.pk)
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, _("Le dossier est clos."))
                return redirect("cases:detail", pk=case.pk)
        if not policy.can(request.user, Action.CLOSE, case):
            log_denial(request, "close", "case", case.pk)
            raise Http404
        return render(request, "cases/detail.html", case_context(request, case, close_form=form))


ADD_MEMBER = "ajouter_membre"


def with_one_more_member(data, prefix: str = "membres"):
    """The posted page with one more empty member row ("Ajouter un membre" without JavaScript)."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    count = data.get(key, "0")
    data[key] = str(int(count) + 1 if count.isdigit() and int(count) < 50 else count)
    return data


def without_errors(forms: dict) -> dict:
    """Forms posted back only to add a row: shown with what was typed, without error messages yet."""
    for form in forms.values():
        if isinstance(form, BaseFormSet):
            form._errors, form._non_form_errors = [], form.error_class()
            for sub in form.forms:
                sub._errors = ErrorDict()
        else:
            form._errors = ErrorDict()
    return forms


class CaseCreateView(LoginRequiredMixin, View):
    """One page: the household, its members, the priority criteria and the case options."""

    template_name = "cases/create.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not services.can_flag(request.user):
            log_denial(request, "flag", "page", "-")
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def forms(self, request, data=None):
        household = Household()
        roles = roles_of(request.user)  # a reception agent records no resources and no evidence notes
        return {
            "household_form": HouseholdForm(data, instance=household, prefix="menage", roles=roles, user=request.user),
            "members": MemberFormSet(data, instance=household, prefix="membres"),
            "criteria": CriterionFormSet(data, prefix="criteres", form_kwargs={"roles": roles}),
            "options": CaseOptionsForm(data, user=request.user, prefix="dossier"),
        }

    def render_forms(self, request, forms):
        return render(request, self.template_name, {"nav": "cases", **forms})

    def get(self, request):
        return self.render_forms(request, self.forms(request))

    def post(self, request):
        if ADD_MEMBER in request.POST:
            return self.render_forms(request, without_errors(self.forms(request, with_one_more_member(request.POST))))
        forms = self.forms(request, request.POST)
        valid = [f.is_valid() for f in forms.values()]  # validate all, to show every error at once
        if all(valid):
            options = forms["options"].cleaned_data
            try:
                case = services.household_flag(
                    actor=request.user,
                    household=forms["household_form"].instance,
                    members=forms["members"].members(),
                    organisation=options["organisation"],
                    criteria=forms["criteria"].criteria(),
                    is_protected=options["is_protected"],
                    is_dalo=options["is_dalo"],
                    comed_decision_date=options["comed_decision_date"],
                )
            except ValidationError as error:
                target = forms["options"]
                if hasattr(error, "error_dict") and set(error.error_dict) & set(forms["household_form"].fields):
                    target = forms["household_form"]
                attach_errors(target, error)
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, _("Dossier %(ref)s créé : le diagnostic social est à faire.") % {"ref": case})
                return redirect("cases:detail", pk=case.pk)
        return self.render_forms(request, forms)


class HouseholdEditView(LoginRequiredMixin, View):
    template_name = "cases/household_edit.html"

    def get_case(self, request, pk):
        case = scoped_case(request, pk)
        if not (case.is_open and policy.can(request.user, Action.CHANGE, case)):
            log_denial(request, "change", "case", case.pk)
            raise Http404
        return case

    def forms(self, request, case, data=None):
        household = Household.objects.get(pk=case.household_id)
        return {
            "household_form": HouseholdForm(
                data, instance=household, prefix="menage", roles=case_access(request.user, case), user=request.user
            ),
            "members": MemberFormSet(data, instance=household, prefix="membres"),
            "dalo_form": DaloForm(
                data,
                prefix="dalo",
                initial={"is_dalo": case.is_dalo, "comed_decision_date": case.comed_decision_date},
            ),
        }

    def get(self, request, pk):
        case = self.get_case(request, pk)
        return render(request, self.template_name, {"nav": "cases", "case": case, **self.forms(request, case)})

    def post(self, request, pk):
        case = self.get_case(request, pk)
        if ADD_MEMBER in request.POST:
            forms = without_errors(self.forms(request, case, with_one_more_member(request.POST)))
            return render(request, self.template_name, {"nav": "cases", "case": case, **forms})
        forms = self.forms(request, case, request.POST)
        if all([f.is_valid() for f in forms.values()]):
            members = forms["members"]
            try:
                with transaction.atomic():
                    services.household_update(
                        actor=request.user,
                        case=case,
                        household=forms["household_form"].instance,
                        members=members.members(),
                        deleted_members=[f.instance for f in members.deleted_forms if f.instance.pk],
                    )
                    dalo = forms["dalo_form"]
                    if dalo.changed_from(case):
                        services.case_dalo_update(
                            actor=request.user,
                            case=case,
                            is_dalo=dalo.cleaned_data["is_dalo"],
                            comed_decision_date=dalo.cleaned_data["comed_decision_date"],
                        )
            except ValidationError as error:
                target = forms["household_form"]
                if hasattr(error, "error_dict") and set(error.error_dict) & {"is_dalo", "comed_decision_date"}:
                    target = forms["dalo_form"]
                attach_errors(target, error)
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, _("Ménage mis à jour."))
                return redirect("cases:detail", pk=case.pk)
        return render(request, self.template_name, {"nav": "cases", "case": case, **forms})
