"""Forms of the landlord's dwelling pages. They collect input; the services validate and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases import choices
from cases.forms_common import DateInput, DateTimeInput
from cases.models import CaleolDecision, Dwelling, HouseholdReply, Organisation
from web.tasks.forms import drop_suggested_rank, suggest_free_rank


class DwellingForm(forms.ModelForm):
    class Meta:
        model = Dwelling
        fields = [
            "landlord", "rpls_id", "address", "commune", "in_qpv", "typology", "surface_m2", "floor", "has_lift",
            "wheelchair_accessible", "financing", "rent", "charges", "reservataire", "available_from",
        ]  # fmt: skip
        widgets = {"available_from": DateInput}

    def __init__(self, *args, landlords, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["landlord"].queryset = landlords
        if landlords.count() == 1:
            self.fields["landlord"].initial = landlords.first()
        self.fields["reservataire"].queryset = Organisation.objects.filter(
            kind__in=[choices.OrganisationKind.RESERVATAIRE, choices.OrganisationKind.STATE,
                      choices.OrganisationKind.EPCI, choices.OrganisationKind.COMMUNE]
        )  # fmt: skip


class CandidateForm(forms.Form):
    """Put the dwelling forward to one more household."""

    case = forms.ModelChoiceField(label=_("Ménage"), queryset=None, empty_label=_("— Choisir un dossier —"))
    estimated_apl = forms.DecimalField(
        label=_("APL estimée (€/mois)"), min_value=0, max_digits=10, decimal_places=2, initial=0
    )
    dalo_notice_given_at = forms.DateTimeField(
        label=_("Ménage DALO informé le"),
        required=False,
        widget=DateTimeInput,
        help_text=_("Obligatoire pour un ménage DALO : quand il a été informé que l'offre est faite au titre du DALO "
                    "et de ce qu'un refus entraîne."),
    )  # fmt: skip
    match_override_reason = forms.CharField(
        label=_("Motif pour proposer malgré les alertes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("À remplir seulement si le contrôle d'adéquation signale un problème."),
    )
    fewer_candidates_reason = forms.ChoiceField(
        label=_("Moins de trois candidats ?"),
        required=False,
        choices=[("", _("— Non, au moins trois —"))] + choices.FewerCandidatesReason.choices,
    )
    fewer_candidates_detail = forms.CharField(
        label=_("Précisions sur le nombre de candidats"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = cases
        self.fields["case"].label_from_instance = lambda c: f"{c.reference} – {c.household.applicant_last_name.upper()}"

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("case")
        if not data["fewer_candidates_reason"]:
            data.pop("fewer_candidates_reason")
            data.pop("fewer_candidates_detail")
        return data


class CaleolForm(forms.ModelForm):
    class Meta:
        model = CaleolDecision
        fields = [
            "decision", "rank", "missing_document", "condition_deadline", "non_allocation_reason",
            "inadmissibility_reason", "reasons_detail", "decided_on",
        ]  # fmt: skip
        widgets = {
            "condition_deadline": DateInput,
            "decided_on": DateInput,
            "reasons_detail": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        suggest_free_rank(self, proposal)

    def clean(self):
        return drop_suggested_rank(self, super().clean())

    def _post_clean(self):
        """Model rules are checked by the service (with the offer's ranks), not twice here."""


class NotificationForm(forms.Form):
    notified_on = forms.DateField(label=_("Offre notifiée le"), widget=DateInput)
    registered_letter = forms.BooleanField(label=_("Par lettre recommandée"), required=False)
    delivered_on = forms.DateField(label=_("Lettre remise (ou 1re présentation) le"), required=False, widget=DateInput)
    reply_deadline = forms.DateField(
        label=_("Date limite de réponse"),
        required=False,
        widget=DateInput,
        help_text=_("Au moins 10 jours ; calculée si vide."),
    )


class ConditionForm(forms.Form):
    received_on = forms.DateField(label=_("Pièce manquante reçue le"), widget=DateInput)


class ReplyForm(forms.ModelForm):
    class Meta:
        model = HouseholdReply
        fields = ["answer", "refusal_motive", "legitimate", "comment", "replied_on"]
        widgets = {
            "legitimate": forms.NullBooleanSelect,
            "replied_on": DateInput,
            "comment": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A lapse is never typed in: it happens by itself.
        self.fields["answer"].choices = [c for c in self.fields["answer"].choices if c[0] != choices.ReplyAnswer.LAPSED]
        self.fields["legitimate"].help_text = _(
            "Appréciation du motif ; « Inconnu » applique l'appréciation par défaut."
        )

    def _post_clean(self):
        """Checked by the service."""


class LeaseForm(forms.Form):
    signed_on = forms.DateField(label=_("Bail signé le"), widget=DateInput)
