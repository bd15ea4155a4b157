"""One form per human step. The forms only collect input; the workflow services validate and write.

The committee step has no form here: a committee decides in session or by written procedure
(committees/forms.py DecisionForm), never one member from the step page."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases import choices
from cases.models import CaleolDecision, Diagnostic, Dwelling, HouseholdReply, Proposal
from permissions.policy import memberships_of
from permissions.roles import Role
from permissions.visibility import case_access, visible_fields
from workflows import queries


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


DATE_WIDGETS = {forms.DateField: DateInput, forms.DateTimeField: DateTimeInput}


class StepFormMixin:
    """Date pickers for date fields; errors are rendered by templates/includes/field.html."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget_class = DATE_WIDGETS.get(type(field))
            if widget_class and not isinstance(field.widget, widget_class):
                field.widget = widget_class()


def attach_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the form fields it names; the rest goes on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class DiagnosticForm(StepFormMixin, forms.ModelForm):
    class Meta:
        model = Diagnostic
        fields = [
            f.name for f in Diagnostic._meta.get_fields() if f.editable and f.name not in ("id", "case", "completed_at")
        ]

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = set(visible_fields(case_access(user, case), Diagnostic))
        for name in list(self.fields):
            if name not in allowed and not user.is_superuser:
                del self.fields[name]

    def submit(self, services, *, actor, case):
        values = dict(self.cleaned_data)
        areas = values.pop("areas_to_avoid", None)
        communes = values.pop("recommended_communes", None)
        current = case.diagnostic
        return services.diagnostic_complete(
            actor=actor,
            case=case,
            values=values,
            areas_to_avoid=current.areas_to_avoid.all() if areas is None else areas,
            recommended_communes=current.recommended_communes.all() if communes is None else communes,
        )


def landlord_org_ids(user) -> set[int]:
    return {g.organisation_id for g in memberships_of(user) if g.role == Role.LANDLORD_AGENT}


def fewer_candidates_fields(form) -> None:
    """The dwelling's round may go to the CALEOL with fewer than three candidates, for a stated reason."""
    form.fields["fewer_candidates_reason"] = forms.ChoiceField(
        label=_("Moins de trois candidats pour ce logement ?"),
        required=False,
        choices=[("", _("— Non, au moins trois —"))] + choices.FewerCandidatesReason.choices,
    )
    form.fields["fewer_candidates_detail"] = forms.CharField(
        label=_("Précisions sur le nombre de candidats"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ProposalForm(StepFormMixin, forms.ModelForm):
    class Meta:
        model = Proposal
        fields = [
            "dwelling", "estimated_apl", "dalo_notice_given_at", "notified_on", "registered_letter", "delivered_on",
            "reply_deadline", "match_override_reason",
        ]  # fmt: skip

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        dwellings = Dwelling.objects.select_related("commune").order_by("commune__name", "address")
        if not user.is_superuser:
            dwellings = dwellings.filter(landlord_id__in=landlord_org_ids(user))
        self.fields["dwelling"].queryset = dwellings
        # The match check (cases/matching.py) runs in the service: its warnings come back on this field.
        self.fields["match_override_reason"].help_text = _(
            "Le logement est comparé au diagnostic avant l'enregistrement ; en cas d'alerte, indiquez pourquoi "
            "vous maintenez la proposition."
        )
        fewer_candidates_fields(self)
        if case.is_dalo:
            self.fields["dalo_notice_given_at"].help_text = _(
                "Ménage DALO : obligatoire. Date à laquelle le ménage a été informé que l'offre est faite au titre "
                "du DALO et des conséquences d'un refus."
            )

    def submit(self, services, *, actor, case):
        return services.proposal_make(actor=actor, case=case, values=dict(self.cleaned_data))


def suggest_free_rank(form, proposal) -> None:
    """Rank 1 of the dwelling already given to another candidate still in the running: plain "Attribution"
    (rank 1) is no longer offered; "Attribution en rang n" is, with the first free rank filled in.

    The hidden choice stays valid: a form opened before the other decision still posts, and the service's
    rank error then shows on the rank field."""
    taken = queries.taken_ranks(proposal)
    if not taken:
        return
    free = next(n for n in range(1, len(taken) + 2) if n not in taken)
    rank = form.fields["rank"]
    rank.help_text = _("Rangs déjà donnés pour ce logement : %(taken)s. Premier rang libre : %(free)s.") % {
        "taken": ", ".join(str(n) for n in sorted(taken)),
        "free": free,
    }
    if 1 not in taken:
        return
    kind = choices.CaleolDecisionType
    decision = form.fields["decision"]
    decision.widget.choices = [
        (value, _("Attribution en rang n (premier rang libre : %(free)s)") % {"free": free})
        if value == kind.ALLOCATED_RANKED
        else (value, label)
        for value, label in decision.choices
        if value != kind.ALLOCATED
    ]
    decision.help_text = _(
        "Le rang 1 est déjà donné à un autre candidat de ce logement : une attribution simple n'est plus "
        "possible. Le logement ne reviendra à ce ménage que si les ménages mieux classés le refusent."
    )
    form.initial["rank"] = free
    form.suggested_rank = free


def drop_suggested_rank(form, cleaned_data: dict) -> dict:
    """The rank filled in by suggest_free_rank means nothing for a decision that allocates nothing."""
    suggested = getattr(form, "suggested_rank", None)
    allocates = CaleolDecision(decision=cleaned_data.get("decision")).is_allocation
    if suggested and cleaned_data.get("rank") == suggested and not allocates:
        cleaned_data["rank"] = None
    return cleaned_data


class CaleolForm(StepFormMixin, forms.ModelForm):
    class Meta:
        model = CaleolDecision
        fields = [
            "decision",
            "rank",
            "missing_document",
            "condition_deadline",
            "non_allocation_reason",
            "inadmissibility_reason",
            "reasons_detail",
            "decided_on",
        ]

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        fewer_candidates_fields(self)
        # The form asks which inadmissibility: tied to this dwelling (the case goes on) or general.
        self.fields["inadmissibility_reason"].choices = [("", "---------")] + choices.inadmissibility_choices()
        self.fields["inadmissibility_reason"].help_text = _(
            "Propre à ce logement (plafond de ressources de son financement) : seule cette proposition prend fin. "
            "Générale : le dossier prioritaire est clos."
        )
        suggest_free_rank(self, queries.current_proposal(case))

    def clean(self):
        return drop_suggested_rank(self, super().clean())

    def submit(self, services, *, actor, case):
        return services.caleol_record(actor=actor, case=case, values=dict(self.cleaned_data))


class ReplyForm(StepFormMixin, forms.ModelForm):
    class Meta:
        model = HouseholdReply
        fields = ["answer", "refusal_motive", "legitimate", "comment", "replied_on"]
        widgets = {"legitimate": forms.NullBooleanSelect}

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        # A lapse is never typed in: it happens by itself (dwelling let to another, condition not met).
        self.fields["answer"].choices = [c for c in self.fields["answer"].choices if c[0] != choices.ReplyAnswer.LAPSED]
        self.fields["legitimate"].help_text = _(
            "Laisser « Inconnu » pour appliquer l'appréciation par défaut du motif."
        )

    def submit(self, services, *, actor, case):
        return services.reply_record(actor=actor, case=case, values=dict(self.cleaned_data))


class LeaseForm(StepFormMixin, forms.Form):
    signed_on = forms.DateField(label=_("Bail signé le"))

    def __init__(self, *args, user, case, instance=None, **kwargs):
        super().__init__(*args, **kwargs)

    def submit(self, services, *, actor, case):
        return services.lease_record(actor=actor, case=case, signed_on=self.cleaned_data["signed_on"])


STEP_FORMS = {
    "diagnostic": DiagnosticForm,
    "proposal": ProposalForm,
    "caleol": CaleolForm,
    "reply": ReplyForm,
    "lease": LeaseForm,
}


class ClaimForm(forms.Form):
    """Nothing to fill in: the POST itself is the claim."""


class CloseForm(StepFormMixin, forms.Form):
    reason = forms.ChoiceField(
        label=_("Motif de clôture"), choices=[("", _("— Choisir —"))] + choices.ClosureReason.choices
    )
    comment = forms.CharField(label=_("Commentaire"), widget=forms.Textarea(attrs={"rows": 3}))
