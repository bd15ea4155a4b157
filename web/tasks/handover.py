"""Releasing a taken step, and a supervisor's reassignment of it (workflows.services)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views import View

from cases.forms_common import attach_errors
from permissions.delegations import PersonChoiceField
from permissions.policy import delegators_of, log_denial
from workflows import queries, services
from workflows.flows import STEPS, CaseFlow

from .views import scoped_case


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_l("Motif"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500)


class ReassignForm(forms.Form):
    to_user = PersonChoiceField(label=_l("Confier l'étape à"), queryset=None)
    reason = forms.CharField(label=_l("Motif"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = candidates


def step_actions(user, task) -> dict:
    """What the user may do with the open step's holder on the case page: release it (its holder),
    reassign it (a supervisor of the holder's organisation). No query for a step nobody holds."""
    if task is None or task.owner_id is None:
        return {}
    others = task.owner_id != user.pk
    return {
        "may_release": not others,
        "may_reassign": others and services.may_reassign(user, task),
        "may_take_as_delegate": others and task.owner_id in delegators_of(user),
    }


def _taken_step(request, pk, node):
    if node not in STEPS:
        raise Http404
    case = scoped_case(request, pk)
    task = queries.active_task(case, node)
    if task is None or task.owner_id is None:
        raise Http404
    return case, task


class ReleaseView(LoginRequiredMixin, View):
    """The holder gives the step back to the team, with a reason."""

    def held_step(self, request, pk, node):
        case, task = _taken_step(request, pk, node)
        if task.owner_id != request.user.pk:
            log_denial(request, f"release:{node}", "case", case.pk)
            raise Http404
        return case

    def get(self, request, pk, node):
        return self.page(request, self.held_step(request, pk, node), node, ReleaseForm())

    def page(self, request, case, node, form):
        context = {
            "case": case,
            "form": form,
            "page_title": _("Libérer l'étape « %(step)s »") % {"step": getattr(CaseFlow, node).task_title},
            "intro": _("L'étape retourne dans la liste des étapes disponibles de l'équipe."),
            "submit": _("Libérer l'étape"),
            "nav": "inbox",
        }
        return render(request, "workflows/handover_form.html", context)

    def post(self, request, pk, node):
        case = self.held_step(request, pk, node)
        form = ReleaseForm(request.POST)
        if form.is_valid():
            try:
                services.task_release(actor=request.user, case=case, node_name=node, reason=form.cleaned_data["reason"])
            except PermissionDenied:
                raise Http404 from None  # the service has logged the denial
            except ValidationError as error:
                attach_errors(form, error)
            except services.StepConflict as conflict:
                messages.error(request, str(conflict))
                return redirect("cases:detail", pk=case.pk)
            else:
                messages.success(request, _("Étape libérée : elle est de nouveau disponible pour l'équipe."))
                return redirect("cases:detail", pk=case.pk)
        return self.page(request, case, node, form)


class ReassignView(LoginRequiredMixin, View):
    """A supervisor hands the step to another member of the holder's organisation."""

    def setup_reassign(self, request, pk, node):
        case, task = _taken_step(request, pk, node)
        candidates = services.reassign_candidates(request.user, task)
        if task.owner_id == request.user.pk or not services.may_reassign(request.user, task):
            log_denial(request, f"reassign:{node}", "case", case.pk)
            raise Http404
        return case, task, candidates

    def page(self, request, case, task, node, form):
        holder = task.owner.get_full_name() or _("une autre personne")
        context = {
            "case": case,
            "form": form,
            "page_title": _("Réattribuer l'étape « %(step)s »") % {"step": getattr(CaseFlow, node).task_title},
            "intro": _("Étape prise en charge par %(holder)s.") % {"holder": holder},
            "submit": _("Réattribuer l'étape"),
            "nav": "inbox",
        }
        return render(request, "workflows/handover_form.html", context)

    def get(self, request, pk, node):
        case, task, candidates = self.setup_reassign(request, pk, node)
        return self.page(request, case, task, node, ReassignForm(candidates=candidates))

    def post(self, request, pk, node):
        case, task, candidates = self.setup_reassign(request, pk, node)
        # Any active user is accepted here so that the service, not the list, says why one is refused.
        form = ReassignForm(request.POST, candidates=_any_user())
        if form.is_valid():
            try:
                services.task_reassign(
                    actor=request.user,
                    case=case,
                    node_name=node,
                    to_user=form.cleaned_data["to_user"],
                    reason=form.cleaned_data["reason"],
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                attach_errors(form, error)
            except services.StepConflict as conflict:
                messages.error(request, str(conflict))
                return redirect("cases:detail", pk=case.pk)
            else:
                messages.success(request, _("Étape réattribuée."))
                return redirect("cases:detail", pk=case.pk)
        form.fields["to_user"].queryset = candidates
        return self.page(request, case, task, node, form)


def _any_user():
    return get_user_model().objects.filter(is_active=True)
