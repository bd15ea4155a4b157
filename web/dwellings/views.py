"""The landlord's dwelling pages: declare a dwelling, put it forward to several candidates, record
each candidate's CALEOL decision, the offer's notification, the household's reply and the lease;
and the refusal report. Every write goes through the workflow services (workflows/services.py)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from cases import choices, offers
from cases.forms_common import attach_errors
from cases.models import Dwelling, Organisation, Proposal
from permissions.policy import Action, log_denial, memberships_of, policy
from permissions.roles import Role
from permissions.visibility import can_see_field
from web.cases import reports
from workflows import queries, services
from workflows.dwellings import dwelling_create

from . import forms


def landlord_ids(user) -> set[int]:
    return {g.organisation_id for g in memberships_of(user) if g.role == Role.LANDLORD_AGENT}


def my_dwellings(user):
    qs = Dwelling.objects.select_related("commune", "landlord").order_by("-available_from", "-pk")
    return qs if user.is_superuser else qs.filter(landlord_id__in=landlord_ids(user))


def get_dwelling(request, pk) -> Dwelling:
    dwelling = my_dwellings(request.user).filter(pk=pk).first()
    if dwelling is None:
        log_denial(request, "view", "dwelling", pk)
        raise Http404
    return dwelling


class DwellingList(LoginRequiredMixin, View):
    def get(self, request):
        if not landlord_ids(request.user) and not request.user.is_superuser:
            raise Http404
        dwellings = list(my_dwellings(request.user).prefetch_related("offers"))
        for dwelling in dwellings:
            dwelling.open_offer = next((o for o in dwelling.offers.all() if o.status == choices.OfferStatus.OPEN), None)
        return render(
            request, "dwellings/list.html", {"dwellings": dwellings, "nav": "dwellings", "page_title": _("Logements")}
        )


class DwellingCreate(LoginRequiredMixin, View):
    def landlords(self, request):
        qs = Organisation.objects.filter(kind=choices.OrganisationKind.LANDLORD)
        return qs if request.user.is_superuser else qs.filter(pk__in=landlord_ids(request.user))

    def get(self, request):
        landlords = self.landlords(request)
        if not landlords.exists():
            raise Http404
        return self.show(request, forms.DwellingForm(landlords=landlords))

    def post(self, request):
        landlords = self.landlords(request)
        if not landlords.exists():
            raise Http404
        form = forms.DwellingForm(request.POST, landlords=landlords)
        if form.is_valid():
            values = dict(form.cleaned_data)
            landlord = values.pop("landlord")
            try:
                dwelling = dwelling_create(actor=request.user, landlord=landlord, values=values)
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, _("Logement enregistré."))
                return redirect("dwellings:detail", pk=dwelling.pk)
        return self.show(request, form)

    def show(self, request, form):
        return render(
            request, "dwellings/form.html", {"form": form, "nav": "dwellings", "page_title": _("Nouveau logement")}
        )


ACTIONS = {
    "caleol": forms.CaleolForm,
    "notify": forms.NotificationForm,
    "condition": forms.ConditionForm,
    "reply": forms.ReplyForm,
    "lease": forms.LeaseForm,
}


def action_form(name: str, proposal, data=None):
    # The CALEOL form offers only the ranks still free for this dwelling.
    extra = {"proposal": proposal} if name == "caleol" else {}
    return ACTIONS[name](data, prefix=f"{name}-{proposal.pk}", **extra)


def available_actions(proposal, holder) -> list[str]:
    """What can be recorded now for this candidate, in the order of the steps."""
    case = proposal.case
    if queries.current_proposal(case) != proposal:
        return []
    if case.status == choices.CaseStatus.CALEOL:
        return ["caleol"]
    if case.status == choices.CaseStatus.LEASE:
        return ["lease"]
    if case.status != choices.CaseStatus.REPLY or holder != proposal or hasattr(proposal, "reply"):
        return []
    found = ["notify"]
    decision = proposal.caleol_decision
    if decision.decision == choices.CaleolDecisionType.SUSPENSIVE_CONDITION and not decision.condition_met_on:
        found.append("condition")
    if proposal.notified_on:
        found.append("reply")
    return found


class DwellingDetail(LoginRequiredMixin, View):
    def candidate_cases(self, request, offer):
        qs = policy.queryset_for(request.user, Action.VIEW).filter(status=choices.CaseStatus.PROPOSAL)
        if not request.user.is_superuser:
            qs = qs.filter(designated_landlord_id__in=landlord_ids(request.user))
        if offer is not None:
            qs = qs.exclude(proposals__offer=offer)
        return qs.select_related("household").order_by("created_at")

    def get(self, request, pk, action=None, proposal_pk=None):
        # The action URLs only take POSTs; a GET on them shows the dwelling page.
        return self.show(request, get_dwelling(request, pk))

    def post(self, request, pk, action=None, proposal_pk=None):
        dwelling = get_dwelling(request, pk)
        if action is None:
            return self.http_method_not_allowed(request)
        offer = dwelling.offers.filter(status=choices.OfferStatus.OPEN).first()
        if action == "propose":
            form = forms.CandidateForm(request.POST, cases=self.candidate_cases(request, offer))
            if not form.is_valid():
                return self.show(request, dwelling, candidate_form=form)
            values = form.values() | {"dwelling": dwelling}
            ok = self.run(request, form, services.proposal_make, case=form.cleaned_data["case"], values=values)
            return (
                redirect("dwellings:detail", pk=dwelling.pk)
                if ok
                else self.show(request, dwelling, candidate_form=form)
            )
        if action not in ACTIONS:
            raise Http404
        proposal = (offer.proposals.select_related("case").filter(pk=proposal_pk).first()) if offer else None
        if proposal is None:
            raise Http404
        form = action_form(action, proposal, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            case = proposal.case
            call = {
                "caleol": lambda: services.caleol_record(actor=request.user, case=case, values=data),
                "notify": lambda: services.proposal_notify(actor=request.user, case=case, **data),
                "condition": lambda: services.condition_fulfil(actor=request.user, case=case, **data),
                "reply": lambda: services.reply_record(actor=request.user, case=case, values=data),
                "lease": lambda: services.lease_record(actor=request.user, case=case, **data),
            }[action]
            if self.run(request, form, lambda **kwargs: call()):
                return redirect(reverse("dwellings:detail", args=[dwelling.pk]) + f"#candidat-{proposal.pk}")
        return self.show(request, dwelling, failed={(proposal.pk, action): form})

    def run(self, request, form, service, **kwargs) -> bool:
        try:
            service(actor=request.user, **kwargs)
        except ValidationError as error:
            attach_errors(form, error)
            return False
        except services.StepConflict as error:
            form.add_error(None, str(error))
            return False
        except PermissionDenied:
            form.add_error(
                None,
                _("Vous n'avez pas le droit d'enregistrer cette étape (elle est peut-être prise par un collègue)."),
            )
            return False
        messages.success(request, _("Enregistré."))
        return True

    def show(self, request, dwelling, candidate_form=None, failed=None):
        failed = failed or {}
        offer = dwelling.offers.filter(status=choices.OfferStatus.OPEN).first()
        past = list(dwelling.offers.exclude(status=choices.OfferStatus.OPEN))
        records = Proposal.objects.select_related("case__household", "caleol_decision", "reply").order_by("created_at")
        current = list(records.filter(offer=offer)) if offer is not None else []
        earlier = list(records.filter(offer__in=past))
        # The landlord's own records (proposal, CALEOL, reply, lease) stay here for good; the case
        # itself only while it is in the user's scope (closing ends partner access, permissions.policy).
        followed = set(
            policy.queryset_for(request.user)
            .filter(pk__in={p.case_id for p in current + earlier})
            .values_list("pk", flat=True)
        )
        rows = []
        holder = offers.holder(offer) if offer else None
        for proposal in current:
            actions = available_actions(proposal, holder) if proposal.case_id in followed else []
            rows.append(
                self.row(request, proposal, followed)
                | {
                    "holder": holder == proposal,
                    "forms": [
                        (name, failed.get((proposal.pk, name)) or action_form(name, proposal)) for name in actions
                    ],
                }
            )
        past_offers = [
            {"offer": old, "rows": [self.row(request, p, followed) for p in earlier if p.offer_id == old.pk]}
            for old in past
        ]
        context = {
            "dwelling": dwelling,
            "offer": offer,
            "past_offers": past_offers,
            "rows": rows,
            "candidate_form": candidate_form or forms.CandidateForm(cases=self.candidate_cases(request, offer)),
            "min_candidates": offers.MIN_CANDIDATES,
            "nav": "dwellings",
            "page_title": str(dwelling),
            "action_titles": {
                "caleol": _("Décision CALEOL"),
                "notify": _("Notification de l'offre"),
                "condition": _("Pièce manquante reçue"),
                "reply": _("Réponse du ménage"),
                "lease": _("Signature du bail"),
            },
        }
        return render(request, "dwellings/detail.html", context, status=400 if (candidate_form or failed) else 200)

    def row(self, request, proposal, followed) -> dict:
        return {
            "proposal": proposal,
            "name": self.name(request, proposal.case),
            # The case's step only while the landlord still follows the case.
            "followed": proposal.case_id in followed,
            "decision": getattr(proposal, "caleol_decision", None),
            "reply": getattr(proposal, "reply", None),
        }

    def name(self, request, case):
        roles = {g.role for g in memberships_of(request.user)}
        if request.user.is_superuser or can_see_field(roles, "cases.household", "applicant_last_name"):
            return f"{case.household.applicant_last_name.upper()} {case.household.applicant_first_name}"
        return case.reference


class RefusalReport(LoginRequiredMixin, View):
    def get(self, request):
        dimension = request.GET.get("par", "landlord")
        if dimension not in reports.DIMENSIONS:
            dimension = "landlord"
        report = reports.refusal_report(request.user, dimension)
        if report is None:
            log_denial(request, "view", "report", "refusals")
            raise Http404
        return render(
            request,
            "dwellings/refusals.html",
            {
                "report": report,
                "dimensions": [(key, title) for key, (title, _path) in reports.DIMENSIONS.items()],
                "nav": "refusals",
                "page_title": _("Motifs de refus des offres"),
            },
        )
