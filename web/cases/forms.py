"""Forms of the household and case pages. Validation messages come from the models (French)."""

from django import forms
from django.forms import BaseFormSet, BaseInlineFormSet, formset_factory, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from cases.models import CaseCriterion, Commune, Household, HouseholdMember, Organisation
from permissions.policy import memberships_of
from permissions.roles import Role
from permissions.visibility import FIELD_CATEGORIES, CaseAccess, W, best_level, can_write_field
from web.tasks.forms import StepFormMixin, limit_communes

FLAG_ROLES = (Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.RECEPTION)

HOUSEHOLD_FIELDS = [
    "nud",
    "applicant_last_name",
    "applicant_first_name",
    "applicant_birth_date",
    "residence_status",
    "phone",
    "email",
    "address",
    "commune",
    "housing_situation",
    "housing_since",
    "tax_income_n2",
    "monthly_wages",
    "monthly_rsa",
    "monthly_aah",
    "monthly_family_benefits",
    "monthly_other_income",
]
MEMBER_FIELDS = ["first_name", "last_name", "relationship", "birth_date", "shared_custody", "pregnancy"]


def writable(roles, model, names):
    """The fields whose data category the roles may write (W in permissions/visibility.py)."""
    if isinstance(roles, CaseAccess):  # an existing case: its protection and the roles reaching it count
        return [n for n in names if can_write_field(roles, model._meta.label_lower, n)]
    categories = FIELD_CATEGORIES[model._meta.label_lower]
    return [n for n in names if best_level(roles, categories.get(n)) == W]


class HouseholdForm(StepFormMixin, forms.ModelForm):
    class Meta:
        model = Household
        fields = HOUSEHOLD_FIELDS

    def __init__(self, *args, roles=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is None:
            self.fields["commune"].queryset = Commune.objects.order_by("name")
        else:
            limit_communes(self.fields["commune"], user, keep=[self.instance.commune_id])
        self.fields["nud"].help_text = _("18 caractères, par exemple 08324012340000123A.")
        if roles is not None:
            keep = set(writable(roles, Household, HOUSEHOLD_FIELDS))
            for name in list(self.fields):
                if name not in keep:
                    del self.fields[name]


class MemberForm(StepFormMixin, forms.ModelForm):
    class Meta:
        model = HouseholdMember
        fields = MEMBER_FIELDS


class BaseMemberFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Retirer ce membre du ménage")

    def members(self):
        """Members to save (unsaved instances, validated by the service)."""
        return [f.instance for f in self.forms if f.has_changed() and f not in self.deleted_forms]


MemberFormSet = inlineformset_factory(
    Household, HouseholdMember, form=MemberForm, formset=BaseMemberFormSet, extra=1, can_delete=True
)


class CriterionForm(StepFormMixin, forms.ModelForm):
    class Meta:
        model = CaseCriterion
        fields = ["code", "source", "evidence_note"]
        widgets = {"evidence_note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        if roles is not None:
            keep = set(writable(roles, CaseCriterion, self.Meta.fields))
            for name in list(self.fields):
                if name not in keep:
                    del self.fields[name]


class BaseCriterionFormSet(BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        codes = [f.cleaned_data["code"] for f in self.forms if f.cleaned_data.get("code")]
        if len(codes) != len(set(codes)):
            raise forms.ValidationError(_("Chaque critère ne peut être indiqué qu'une fois."))
        if not codes:
            raise forms.ValidationError(_("Indiquez au moins un critère de priorité."))

    def criteria(self):
        return [
            {k: f.cleaned_data[k] for k in ("code", "source", "evidence_note") if k in f.cleaned_data}
            for f in self.forms
            if f.cleaned_data.get("code")
        ]


CriterionFormSet = formset_factory(CriterionForm, formset=BaseCriterionFormSet, extra=3)


class CaseOptionsForm(StepFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation référente"), queryset=Organisation.objects.none())
    is_protected = forms.BooleanField(
        label=_("Dossier protégé (victime de violences ou à la demande)"),
        required=False,
        help_text=_("Adresse et coordonnées masquées hors de votre organisation ; recherche par nom limitée."),
    )
    is_dalo = forms.BooleanField(label=_("Ménage reconnu prioritaire et urgent DALO"), required=False)
    comed_decision_date = forms.DateField(label=_("Date de la décision de la COMED"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        org_ids = {g.organisation_id for g in memberships_of(user) if g.role in FLAG_ROLES}
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=org_ids)
        if len(org_ids) == 1:
            self.fields["organisation"].initial = next(iter(org_ids))


class DaloForm(StepFormMixin, forms.Form):
    """DALO recognition of an open case; changing the COMED date recomputes the préfet's deadline."""

    is_dalo = forms.BooleanField(label=_("Ménage reconnu prioritaire et urgent DALO"), required=False)
    comed_decision_date = forms.DateField(
        label=_("Date de la décision de la COMED"),
        required=False,
        help_text=_("La date limite d'offre du préfet (3 ou 6 mois, article R441-16-1 du CCH) est recalculée."),
    )

    def changed_from(self, case) -> bool:
        data = self.cleaned_data
        return (data["is_dalo"], data["comed_decision_date"]) != (case.is_dalo, case.comed_decision_date)
