"""The task pages: my inbox and queue (filtered, exported), claiming a step, and one generic page per human step."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from cases.forms_common import attach_errors
from cases.models import Case
from committees import selectors as committee_selectors
from committees.models import AgendaItem, CommitteeMember, Session, WrittenProcedure
from committees.synthesis import synthesis
from permissions.policy import case_or_404, log_denial
from web import worklists
from workflows import queries, services
from workflows.flows import STEPS, CaseFlow

from .forms import STEP_FORMS


def scoped_case(request, pk) -> Case:
    """The case if the user may see it; 404 otherwise (never 403: that would confirm it exists)."""
    # permissions.policy.case_or_404: same 404 and logged denial, plus the read log (protected cases,
    # auditors) and the memberships reaching the case, which field visibility reads.
    return case_or_404(request, pk)


class InboxView(LoginRequiredMixin, TemplateView):
    """My steps and my team's available steps, a page of each (no total count: it is what costs), with
    the worklist filters in the URL, the search by POST behind a token and the exports (web/worklists.py)."""

    template_name = "workflows/inbox.html"
    lists = worklists.TASK_LISTS
    url_name = "workflows:inbox"
    title = gettext_lazy("Mes tâches")

    def get_context_data(self, **kwargs):
        request = self.request
        filterset = worklists.task_filter(request)
        searching = bool(worklists.search_text(request))
        lists = worklists.task_worklists(
            request.user,
            filterset,
            lists=self.lists,
            pages={key: request.GET.get(f"page_{key}") for key in self.lists},
            searching=searching,
        )
        filters = request.GET.copy()
        for name in [n for n in filters if n.startswith("page")]:
            filters.pop(name)
        without_search = filters.copy()
        without_search.pop(worklists.SEARCH_PARAM, None)
        return super().get_context_data(
            nav="inbox",
            page_title=self.title,
            filterset=filterset,
            searching=searching,
            filters=filters.urlencode(),
            without_search=without_search.urlencode(),
            mine=lists.get("mine"),
            available=lists.get("available"),
            **kwargs,
        )

    def post(self, request):
        """The search form: the terms go to the session, the URL gets a token (never the terms)."""
        return redirect(f"{reverse(self.url_name)}?{worklists.search_redirect_query(request)}")


class QueueView(InboxView):
    """My team's available steps alone, with the same filters and exports."""

    lists = ("available",)
    url_name = "workflows:queue"
    title = gettext_lazy("Étapes disponibles pour mon équipe")


class TaskExportView(LoginRequiredMixin, View):
    """My steps or my team's available steps, filtered, as CSV or XLSX: the cells the user may read,
    each row a logged read (the case list's export, web/worklists.py)."""

    def get(self, request, key, fmt):
        if fmt not in ("csv", "xlsx") or key not in worklists.TASK_LISTS:
            raise Http404
        filterset = worklists.task_filter(request)
        searching = bool(worklists.search_text(request))
        lists = worklists.task_worklists(request.user, filterset, lists=(key,), searching=searching, export=True)
        name, basename = {"mine": ("task_inbox", "mes-etapes"), "available": ("task_queue", "etapes-disponibles")}[key]
        return worklists.export(request.user, lists[key].rows, fmt, name, basename)


class ClaimView(LoginRequiredMixin, View):
    """POST only: take an available step for oneself, then open it."""

    def post(self, request, pk, node):
        if node not in STEPS:
            raise Http404
        case = scoped_case(request, pk)
        try:
            services.task_claim(actor=request.user, case=case, node_name=node)
        except PermissionDenied:
            raise Http404 from None  # the service has logged the denial
        except services.StepConflict as conflict:
            messages.error(request, str(conflict))
            return redirect("workflows:inbox")
        messages.success(request, _("Étape prise en charge."))
        return redirect("workflows:step", pk=case.pk, node=node)


class StepView(LoginRequiredMixin, View):
    """GET shows the step's form; POST hands it to the step's service. Nothing is saved on error."""

    template_name = "workflows/step.html"

    def setup_step(self, request, pk, node):
        if node not in STEP_FORMS and node != "committee":
            raise Http404
        case = scoped_case(request, pk)
        task = queries.active_task(case, node)
        if task is None:
            if request.method == "POST":
                # Typically a second tab or a colleague recorded the step meanwhile: say so plainly.
                raise services.StepConflict(
                    _("Cette étape a déjà été enregistrée (peut-être par un autre utilisateur) : rechargez le dossier.")
                )
            raise Http404
        if not queries.can_do(request.user, task):
            log_denial(request, f"step:{node}", "case", case.pk)
            raise Http404
        return case, task

    def make_form(self, request, case, node, data=None):
        kwargs = {"user": request.user, "case": case}
        if node == "diagnostic":
            kwargs["instance"] = case.diagnostic
            kwargs["draft"] = data is not None and data.get("action") == "draft"
        return STEP_FORMS[node](data, **kwargs)

    def render_step(self, request, case, task, node, form):
        context = {
            "case": case,
            "task": task,
            "node": node,
            "step_title": getattr(CaseFlow, node).task_title,
            "form": form,
            "proposal": queries.current_proposal(case) if node in ("caleol", "reply", "lease") else None,
            # The household cannot answer while a better-ranked one holds the dwelling: say why, no form.
            "waiting": queries.waiting_for(case) if node == "reply" else None,
            "draft": last_draft(case) if node == "diagnostic" else None,
            "nav": "inbox",
        }
        return render(request, self.template_name, context)

    def render_committee_step(self, request, case, task):
        """No decision form: a committee decides in session or by written procedure (committees/).
        The page shows the synthesis sheet and where the case is examined, or how to put it there."""

        committees = committee_selectors.committees_for(request.user)
        context = {
            "case": case,
            "task": task,
            "node": "committee",
            "step_title": CaseFlow.committee.task_title,
            "sheet": synthesis(case, request.user),
            "items": AgendaItem.objects.filter(
                case=case,
                session__committee__in=committees,
                session__status__in=[Session.Status.PLANNED, Session.Status.OPEN],
                decision__isnull=True,
            ).select_related("session__committee"),
            "procedures": WrittenProcedure.objects.filter(
                case=case, committee__in=committees, status=WrittenProcedure.Status.OPEN
            ).select_related("committee"),
            "secretariats": committees.filter(
                members__user=request.user,
                members__is_active=True,
                members__function=CommitteeMember.Function.SECRETARY,
                communes=case.household.commune_id or 0,
            ),
            "nav": "inbox",
        }
        return render(request, "workflows/committee_step.html", context)

    def get(self, request, pk, node):
        case, task = self.setup_step(request, pk, node)
        if node == "committee":
            return self.render_committee_step(request, case, task)
        return self.render_step(request, case, task, node, self.make_form(request, case, node))

    def post(self, request, pk, node):
        try:
            case, task = self.setup_step(request, pk, node)
        except services.StepConflict as conflict:
            messages.error(request, str(conflict))
            return redirect("cases:detail", pk=pk)
        if node == "committee":
            # Nobody decides alone: nothing is recorded from this page.
            log_denial(request, "step:committee:decide_alone", "case", case.pk)
            messages.error(
                request,
                _(
                    "La commission décide en séance ou par procédure écrite : la décision ne s'enregistre pas "
                    "depuis cette page."
                ),
            )
            return self.render_committee_step(request, case, task)
        form = self.make_form(request, case, node, request.POST)
        if form.is_valid():
            try:
                form.submit(services, actor=request.user, case=case)
            except ValidationError as error:
                attach_errors(form, error)
            except PermissionDenied:
                raise Http404 from None  # the service has logged the denial
            except services.StepConflict as conflict:
                messages.error(request, str(conflict))
                return redirect("cases:detail", pk=case.pk)
            else:
                if getattr(form, "draft", False):
                    messages.success(request, _("Brouillon enregistré : l'étape reste à terminer."))
                    return redirect("workflows:step", pk=case.pk, node=node)
                messages.success(request, _("Étape « %(step)s » enregistrée.") % {"step": task.flow_task.task_title})
                return redirect("cases:detail", pk=case.pk)
        return self.render_step(request, case, task, node, form)


def last_draft(case):
    """The last draft of a diagnostic not completed yet (its history row: when and by whom), or None."""
    diagnostic = case.diagnostic
    if diagnostic.completed_at:
        return None
    return (
        diagnostic.history.filter(history_change_reason=services.DRAFT_REASON)
        .select_related("history_user")
        .order_by("-history_date")
        .first()
    )


def step_url_or_none(case, user):
    """Helper for templates: the open step the user may do now, if any."""
    task = queries.active_task(case)
    if task is not None and queries.can_do(user, task):
        return task
    return None
