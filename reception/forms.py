"""Forms of the reception pages. They collect input; the services validate again and write."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import CriterionSource, PriorityCriterion
from cases.forms_common import DateInput
from cases.models import Commune, Household

from .choices import Channel, CodeChannel, Topic
from .models import Desk, Network, PreFlag, ScriptEntry


def communes_of(networks):
    return Commune.objects.filter(
        pk__in=Network.communes.through.objects.filter(network__in=networks).values("commune_id")
    )


class DeskSearchForm(forms.Form):
    commune = forms.CharField(
        label=_("Commune ou code postal"), required=False, max_length=80, help_text=_("Par exemple : Toulon, 83000.")
    )
    level = forms.TypedChoiceField(
        label=_("Niveau de service"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Tous les niveaux")), *Desk._meta.get_field("level").choices],
    )


class DeskForm(forms.ModelForm):
    class Meta:
        model = Desk
        fields = [
            "network",
            "organisation",
            "name",
            "level",
            "address",
            "commune",
            "opening_hours",
            "wheelchair_accessible",
            "accessibility",
            "languages",
            "phone",
            "email",
            "services",
            "is_active",
        ]
        widgets = {"opening_hours": forms.Textarea(attrs={"rows": 3}), "services": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, networks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = networks
        self.fields["commune"].queryset = communes_of(networks).order_by("name")
        if networks.count() == 1:
            self.fields["network"].initial = networks.first().pk


class ScriptEntryForm(forms.ModelForm):
    class Meta:
        model = ScriptEntry
        fields = ["topic", "level", "title", "body", "is_public", "position"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}


class PublishForm(forms.Form):
    note = forms.CharField(label=_("Ce qui change dans cette version"), max_length=250)


class TopicsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(label=_("Thèmes abordés"), choices=Topic.choices, **kwargs)


class ContactForm(forms.Form):
    desk = forms.ModelChoiceField(label=_("Lieu d'accueil"), queryset=Desk.objects.none())
    on = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=DateInput)
    channel = forms.ChoiceField(label=_("Canal"), choices=Channel.choices, initial=Channel.IN_PERSON)
    topics = TopicsField()

    def __init__(self, *args, desks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desk"].queryset = desks
        if desks.count() == 1:
            self.fields["desk"].initial = desks.first().pk


class ReferralForm(forms.ModelForm):
    """What the referral needs, nothing more: who to call back, where the person lives, the criteria."""

    consent = forms.BooleanField(
        label=_("La personne accepte que ces informations soient transmises au travailleur social"),
        error_messages={"required": _("L'accord de la personne est nécessaire pour l'orienter.")},
    )
    channel = forms.ChoiceField(label=_("Canal"), choices=Channel.choices, initial=Channel.IN_PERSON)

    class Meta:
        model = PreFlag
        fields = ["desk", "target_organisation", "last_name", "first_name", "phone", "email", "commune"]

    def __init__(self, *args, desks, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desk"].queryset = desks
        self.fields["target_organisation"].queryset = targets
        self.fields["commune"].queryset = Commune.objects.order_by("name")
        if desks.count() == 1:
            self.fields["desk"].initial = desks.first().pk


class ConfirmForm(forms.ModelForm):
    """The social worker completes the household when confirming a pre-flag."""

    criteria = forms.MultipleChoiceField(
        label=_("Critères de priorité retenus"),
        choices=PriorityCriterion.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Indiquez au moins un critère de priorité.")},
    )
    is_protected = forms.BooleanField(label=_("Dossier protégé (victime de violences ou à la demande)"), required=False)
    is_dalo = forms.BooleanField(label=_("Ménage reconnu prioritaire et urgent DALO"), required=False)
    comed_decision_date = forms.DateField(label=_("Date de la décision de la COMED"), required=False, widget=DateInput)

    class Meta:
        model = Household
        fields = [
            "nud",
            "applicant_last_name",
            "applicant_first_name",
            "applicant_birth_date",
            "phone",
            "email",
            "commune",
            "housing_situation",
        ]
        widgets = {"applicant_birth_date": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = Commune.objects.order_by("name")
        self.fields["nud"].help_text = _("18 caractères, par exemple 08324012340000123A.")

    def criteria_items(self, source: str = CriterionSource.SOCIAL_WORKER) -> list[dict]:
        return [{"code": code, "source": source} for code in self.cleaned_data["criteria"]]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": _("Indiquez pourquoi le pré-signalement est décliné.")},
    )


class AccessIssueForm(forms.Form):
    holder = forms.CharField(
        label=_("Titulaire du code"),
        max_length=120,
        initial="Le ménage",
        help_text=_("Le ménage, ou la personne qu'il autorise à suivre son dossier."),
    )
    channel = forms.ChoiceField(label=_("Envoi du code à usage unique par"), choices=CodeChannel.choices)
    destination = forms.CharField(
        label=_("Adresse électronique ou numéro de mobile"),
        max_length=254,
        help_text=_("Par exemple : 06 12 34 56 78."),
    )
    desk = forms.ModelChoiceField(label=_("Lieu d'accueil référent"), queryset=Desk.objects.none(), required=False)

    def __init__(self, *args, desks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desk"].queryset = desks


class SignInForm(forms.Form):
    reference = forms.CharField(
        label=_("Numéro de dossier"), max_length=30, help_text=_("Il commence par PP-, par exemple PP-2026-000123.")
    )
    code = forms.CharField(
        label=_("Code d'accès personnel"),
        max_length=30,
        help_text=_("Le code remis par votre travailleur social, par exemple ABCD-EFGH-JKLM."),
    )


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code reçu"),
        max_length=6,
        min_length=6,
        help_text=_("6 chiffres, reçus par courriel ou SMS."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={"min_length": _("Le code compte 6 chiffres.")},
    )


class PeriodForm(forms.Form):
    network = forms.ModelChoiceField(label=_("Réseau"), queryset=Network.objects.none(), required=False)
    start = forms.DateField(label=_("Du"), required=False, widget=DateInput)
    end = forms.DateField(label=_("Au"), required=False, widget=DateInput)

    def __init__(self, *args, networks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = networks

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("La date de début doit précéder la date de fin."))
        return data
