from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import choices
from cases.models import CommitteeReview, Organisation, _required_by_outcome

from .models import DALO_LOSS_CHOICES, PRIORITY_CHOICES, CommitteeMember, Session
from .services import AMENDABLE_FIELDS, FIELDS_BY_OUTCOME

LANDLORDS = Organisation.objects.filter(kind=choices.OrganisationKind.LANDLORD)
RESERVATAIRES = Organisation.objects.exclude(
    kind__in=[choices.OrganisationKind.LANDLORD, choices.OrganisationKind.ASSOCIATION, choices.OrganisationKind.SIAO]
)


def offer_adapted_field():
    """The committee's explicit statement, on a loss-of-DALO review, that the refused offer was
    adapted (CommitteeReview.offer_adapted: a loss cannot be confirmed without "yes")."""
    return forms.TypedChoiceField(
        label=_("L'offre refusée était-elle adaptée aux besoins et capacités du ménage ?"),
        choices=[("", _("— Choisir —")), ("true", _("Oui, offre adaptée")), ("false", _("Non, offre non adaptée"))],
        coerce=lambda v: v == "true",
        empty_value=None,
        required=False,
        help_text=_("Au vu des alertes d'adéquation affichées. Sans « Oui », la perte ne peut pas être confirmée."),
    )


class SessionForm(forms.ModelForm):
    starts_at = forms.DateTimeField(
        label=_("Date et heure"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
    )
    video_link = forms.URLField(label=_("Lien de visioconférence"), required=False, assume_scheme="https")

    class Meta:
        model = Session
        fields = ["starts_at", "place", "video_link"]
        help_texts = {"place": _("Lieu ou lien de visioconférence : au moins l'un des deux.")}


class CaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, case):
        parts = [case.reference]
        if case.dalo_loss_review_pending:
            parts.append(str(_("perte du bénéfice DALO à examiner")))
        if case.dalo_offer_deadline:
            parts.append(str(_("DALO : offre avant le %(d)s")) % {"d": case.dalo_offer_deadline.strftime("%d/%m/%Y")})
        if getattr(case, "diagnostic", None):
            parts.append(str(_("urgence %(u)s")) % {"u": case.diagnostic.get_urgency_display().lower()})
        return " – ".join(parts)


class AgendaAddForm(forms.Form):
    case = CaseChoiceField(label=_("Dossier à inscrire"), queryset=None, empty_label=_("Choisissez un dossier"))

    def __init__(self, *args, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = cases


class AttendanceForm(forms.Form):
    present = forms.ModelMultipleChoiceField(
        label=_("Membres présents"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, session, present=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["present"]
        field.queryset = session.committee.members.filter(is_active=True).select_related("user", "organisation")
        field.label_from_instance = lambda seat: (
            f"{seat.display_name} – {seat.organisation} ({seat.get_function_display()})"
        )
        if not self.is_bound:
            # `present`: the member ids the page has already read.
            if present is None:
                present = session.attendance.filter(present=True).values_list("member_id", flat=True)
            self.initial["present"] = list(present)


class VoteForm(forms.Form):
    choice = forms.ChoiceField(label=_("Votre avis"), widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Commentaire (facultatif)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        options = DALO_LOSS_CHOICES if item.is_dalo_loss else PRIORITY_CHOICES
        self.fields["choice"].choices = [(c.value, c.label) for c in options]


class RecusalForm(forms.Form):
    member = forms.ModelChoiceField(label=_("Membre qui se déporte"), queryset=None)
    reason = forms.CharField(
        label=_("Motif du déport"),
        max_length=200,
        help_text=_("Par exemple : bailleur concerné, lien personnel avec le ménage."),
    )

    def __init__(self, *args, seat: CommitteeMember, item, **kwargs):
        super().__init__(*args, **kwargs)
        members = seat.committee.members.filter(is_active=True).exclude(recusals__item=item)
        if not seat.is_bureau:
            members = members.filter(pk=seat.pk)
        self.fields["member"].queryset = members.select_related("user", "organisation")
        self.fields["member"].label_from_instance = lambda s: f"{s.display_name} – {s.organisation}"


Outcome = choices.CommitteeOutcome
# What each outcome states on the form: these fields are required for it, the fields of the other
# outcomes are dropped (server side); the page's script only hides them (progressive enhancement).
REQUIRED_BY_OUTCOME = {
    Outcome.LABELLED: ("orientation", "designated_landlord", "support_measure"),
    Outcome.ADJOURNED: ("missing_items", "adjourned_until"),
    Outcome.NOT_KEPT: ("reason",),
    Outcome.REDIRECTED: ("redirected_to",),
}
FORM_FIELDS_BY_OUTCOME = {
    outcome: (*fields, "other_landlords") if outcome == Outcome.LABELLED else fields
    for outcome, fields in FIELDS_BY_OUTCOME.items()
}
REQUIRED_MESSAGE = _("Ce champ est obligatoire pour cette décision.")


class DecisionForm(forms.Form):
    """One form for every outcome. Only the fields the chosen outcome states are kept (the others are
    emptied), and those it needs are required; each outcome's fields carry `data-outcomes` for the
    page's script. Used by the session decision page and the written-procedure page."""

    outcome = forms.ChoiceField(label=_("Décision"), choices=choices.CommitteeOutcome.choices, widget=forms.RadioSelect)
    orientation = forms.ChoiceField(
        label=_("Orientation (si labellisé)"), choices=[("", "—"), *choices.Orientation.choices], required=False
    )
    designated_landlord = forms.ModelChoiceField(
        label=_("Bailleur désigné (si labellisé)"), queryset=LANDLORDS, required=False
    )
    other_landlords = forms.ModelMultipleChoiceField(
        label=_("Autres bailleurs pressentis (facultatif)"), queryset=LANDLORDS, required=False
    )
    target_reservataire = forms.ModelChoiceField(
        label=_("Réservataire cible (si labellisé)"), queryset=RESERVATAIRES, required=False
    )
    support_measure = forms.ChoiceField(
        label=_("Mesure d'accompagnement (si labellisé)"),
        choices=[("", "—"), *choices.SupportMeasure.choices],
        required=False,
    )
    missing_items = forms.CharField(
        label=_("Ce qui manque pour statuer (si ajourné)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    adjourned_until = forms.DateField(
        label=_("À compléter avant le (si ajourné)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    redirected_to = forms.ChoiceField(
        label=_("Réorienté vers (si réorienté)"), choices=[("", "—"), *choices.RedirectTarget.choices], required=False
    )
    dalo_benefit_lost = forms.TypedChoiceField(
        label=_("Perte du bénéfice DALO"),
        choices=[("true", _("Confirmée")), ("false", _("Non confirmée"))],
        coerce=lambda v: v == "true",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Motif (obligatoire si non retenu ; facultatif sinon)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_dalo_loss = item.is_dalo_loss
        if item.is_dalo_loss:
            self.fields["offer_adapted"] = offer_adapted_field()
            for name in list(self.fields):
                if name not in ("dalo_benefit_lost", "offer_adapted", "reason"):
                    del self.fields[name]
            self.fields["reason"].label = _("Motif de la décision")
            return
        del self.fields["dalo_benefit_lost"]
        for name, field in self.fields.items():
            outcomes = [o for o, names in FORM_FIELDS_BY_OUTCOME.items() if name in names]
            if name != "outcome" and outcomes:
                field.widget.attrs["data-outcomes"] = " ".join(outcomes)
        self.fields["outcome"].widget.attrs["data-outcome-switch"] = "true"

    def clean(self):
        data = super().clean()
        if self.is_dalo_loss:
            return data
        outcome = data.get("outcome")
        if not outcome:
            return data
        kept = FORM_FIELDS_BY_OUTCOME.get(outcome, ())
        for name in self.fields:
            if name in ("outcome", "reason") or name in kept:
                continue
            # A field of another outcome (visible without the script) is not part of this decision.
            data[name] = [] if name == "other_landlords" else None
        # The review's own messages where it states the rule (cases.models), a generic one otherwise.
        messages = _required_by_outcome(CommitteeReview(kind=CommitteeReview.Kind.PRIORITY, outcome=outcome))
        for name in REQUIRED_BY_OUTCOME.get(outcome, ()):
            if data.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, messages.get(name, REQUIRED_MESSAGE))
        return data

    def clean_adjourned_until(self):
        value = self.cleaned_data.get("adjourned_until")
        if value and value <= timezone.localdate():
            raise forms.ValidationError(_("La date doit être dans le futur."))
        return value


class AmendmentForm(forms.Form):
    amendment_reason = forms.CharField(
        label=_("Motif du rectificatif"), widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Obligatoire.")
    )

    def __init__(self, *args, review: CommitteeReview, **kwargs):
        super().__init__(*args, **kwargs)
        base = DecisionForm(item=_Kind(review.kind))
        if review.kind == CommitteeReview.Kind.DALO_LOSS:
            names = ("reason",)
        else:
            names = [f for f in AMENDABLE_FIELDS if f in FIELDS_BY_OUTCOME.get(review.outcome, ())]
        for name in reversed(names):
            field = base.fields[name]
            field.required = False
            self.fields = {name: field, **self.fields}
            if not self.is_bound:
                self.initial[name] = getattr(review, review._meta.get_field(name).attname)


class _Kind:
    def __init__(self, kind):
        self.is_dalo_loss = kind == CommitteeReview.Kind.DALO_LOSS


class ShowOfHandsForm(forms.Form):
    """The secretary records a show of hands: one choice per present voting member (not recused).
    A member left on "—" keeps the vote they may have cast themselves."""

    def __init__(self, *args, item, voters, **kwargs):
        super().__init__(*args, **kwargs)
        options = DALO_LOSS_CHOICES if item.is_dalo_loss else PRIORITY_CHOICES
        self.voters = list(voters)
        for seat in self.voters:
            self.fields[f"member_{seat.pk}"] = forms.ChoiceField(
                label=f"{seat.display_name} – {seat.organisation}",
                choices=[("", "—"), *[(c.value, c.label) for c in options]],
                required=False,
            )

    def votes(self) -> dict:
        return {seat.pk: self.cleaned_data.get(f"member_{seat.pk}") for seat in self.voters}


class ProcedureOpenForm(forms.Form):
    case = CaseChoiceField(label=_("Dossier soumis par écrit"), queryset=None, empty_label=_("Choisissez un dossier"))
    deadline = forms.DateField(
        label=_("Réponses attendues au plus tard le"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Les membres votent jusqu'à la fin de ce jour."),
    )
    reason = forms.CharField(
        label=_("Pourquoi une procédure écrite ? (facultatif)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Par exemple : urgence avant la prochaine séance."),
    )

    def __init__(self, *args, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = cases


class ProcedureCancelForm(forms.Form):
    cancel_reason = forms.CharField(label=_("Motif de l'annulation"), widget=forms.Textarea(attrs={"rows": 2}))
