"""One form per human step. The forms only collect input; the workflow services validate and write.

The committee step has no form here: a committee decides in session or by written procedure
(committees/forms.py DecisionForm), never one member from the step page."""

from django import forms
from django.db.models import Q
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from cases import choices
from cases.forms_common import FrenchFormMixin
from cases.models import CaleolDecision, Commune, Diagnostic, Dwelling, Household, HouseholdReply, Proposal
from permissions.policy import memberships_of, territory_communes
from permissions.roles import Role
from permissions.visibility import case_access, visible_fields
from workflows import queries

# The product's form pieces live one layer down (shared with reception/ and permissions/).
StepFormMixin = FrenchFormMixin


OUTSIDE_TERRITORY = _("Cette commune n'est pas dans votre territoire : choisissez-la dans la liste proposée.")


def limit_communes(field, user, keep=()) -> None:
    """A commune picker offers the user's territory only, plus the communes already recorded (an edit
    never loses them); any other commune posted is refused with a French message. A single choice
    gets the searchable picker (static/js/combobox.js) over its <select>."""
    keep = [pk for pk in keep if pk]
    field.queryset = Commune.objects.filter(Q(pk__in=territory_communes(user).values("pk")) | Q(pk__in=keep)).order_by(
        "name"
    )
    field.error_messages["invalid_choice"] = OUTSIDE_TERRITORY
    if not isinstance(field, forms.ModelMultipleChoiceField):
        field.widget.attrs["data-combobox"] = "commune"


# The diagnostic's sections, in the order a social worker fills them in.
DIAGNOSTIC_SECTIONS = [
    ("menage", _("Le ménage"), ["family_situation", "health_autonomy", "violence_facts", "work_school_care_locations"]),
    (
        "ressources",
        _("Les ressources"),
        [
            "monthly_resources", "monthly_housing_cost", "monthly_other_charges", "debts_amount", "debts_description",
            "over_indebtedness_plan", "entitlements",
        ],
    ),
    (
        "logement",
        _("Le logement"),
        [
            "housing_history", "wishes", "recommended_typology", "accessibility_need", "max_floor_without_lift",
            "recommended_communes", "areas_to_avoid",
        ],
    ),
    ("accompagnement", _("L'accompagnement"), ["independent_living", "support_needed"]),
    ("preconisation", _("La préconisation"), ["urgency", "social_narrative", "committee_synthesis", "recommendation"]),
]  # fmt: skip
# What a completed diagnostic must state (a draft may leave anything empty).
REQUIRED_TO_COMPLETE = {"family_situation", "monthly_resources", "support_needed", "urgency", "committee_synthesis"}
DECLARED_INCOME = ["monthly_wages", "monthly_rsa", "monthly_aah", "monthly_family_benefits", "monthly_other_income"]


class DiagnosticForm(StepFormMixin, forms.ModelForm):
    """The diagnostic in sections. `draft=True`: saved as it stands (nothing required), the step stays
    open; otherwise every field the completed diagnostic needs is required."""

    class Meta:
        model = Diagnostic
        fields = [
            f.name for f in Diagnostic._meta.get_fields() if f.editable and f.name not in ("id", "case", "completed_at")
        ]

    def __init__(self, *args, user, case, draft=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.draft = draft
        allowed = set(visible_fields(case_access(user, case), Diagnostic))
        for name in list(self.fields):
            if name not in allowed and not user.is_superuser:
                del self.fields[name]
        for name, field in self.fields.items():
            field.required = name in REQUIRED_TO_COMPLETE and not draft
            if field.required:
                field.widget.attrs["aria-required"] = "true"
            else:
                field.widget.attrs.pop("aria-required", None)
        for name in ("recommended_communes", "areas_to_avoid"):
            if name in self.fields:
                recorded = self.instance.pk and getattr(self.instance, name).values_list("pk", flat=True)
                limit_communes(self.fields[name], user, keep=list(recorded or ()))
        household = case.household
        self.declared = []
        if "monthly_resources" in self.fields:
            # The resources declared at the flagging: shown beside the section, and the total pre-fills
            # the household's resources until the social worker has written a figure of their own.
            self.declared = [
                (Household._meta.get_field(n).verbose_name, getattr(household, n))
                for n in DECLARED_INCOME
                if getattr(household, n)
            ]
            if not self.is_bound and not self.instance.completed_at and not self.instance.monthly_resources:
                self.initial["monthly_resources"] = household.monthly_income

    def sections(self):
        """(anchor, title, bound fields) of each section holding a field this user may fill in."""
        placed = set()
        result = []
        for anchor, title, names in DIAGNOSTIC_SECTIONS:
            fields = [self[n] for n in names if n in self.fields]
            placed.update(names)
            if fields:
                result.append((anchor, title, fields))
        rest = [self[n] for n in self.fields if n not in placed]
        if rest and result:
            result[-1][2].extend(rest)
        return result

    def values(self) -> dict:
        values = dict(self.cleaned_data)
        if self.draft:
            # A field left empty in a draft keeps what the model holds when it cannot be empty (an amount, a choice).
            values = {k: v for k, v in values.items() if v not in (None, "") or Diagnostic._meta.get_field(k).blank}
        return values

    def submit(self, services, *, actor, case):
        values = self.values()
        areas = values.pop("areas_to_avoid", None)
        communes = values.pop("recommended_communes", None)
        if self.draft:
            return services.diagnostic_save_draft(
                actor=actor, case=case, values=values, areas_to_avoid=areas, recommended_communes=communes
            )
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


def _attrs_html(attrs: dict) -> str:
    """django/forms/widgets/attrs.html, in Python."""
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


class ManyOptionsSelect(forms.Select):
    """Django's Select, same HTML, its options written with format_html instead of one template include
    per option: a landlord's dwellings are thousands (18,770 for one generated landlord), and the
    template engine costs ~0.6 ms an option (11 s of server time per proposal form in the load test)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], _attrs_html(widget["attrs"]))]
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts += [
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    option["value"],
                    _attrs_html(option["attrs"]),
                    option["label"],
                )
                for option in group_choices
            ]
            if group_name:
                parts.append(mark_safe("\n  </optgroup>"))
        parts.append(mark_safe("\n</select>"))
        return mark_safe("".join(parts))


class ProposalForm(StepFormMixin, forms.ModelForm):
    class Meta:
        model = Proposal
        fields = [
            "dwelling", "estimated_apl", "dalo_notice_given_at", "notified_on", "registered_letter", "delivered_on",
            "reply_deadline", "match_override_reason",
        ]  # fmt: skip
        widgets = {"dwelling": ManyOptionsSelect}

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
