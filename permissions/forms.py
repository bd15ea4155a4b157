from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.formats import person_name
from cases.models import Commune, Organisation

from .categories import CATEGORY_LABELS
from .roles import Role
from .visibility import PROTECTED_CATEGORIES

REASON_HELP = _("Conservé dans l'historique. Pas de données personnelles sur le ménage.")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}), help_text=REASON_HELP)


class MembershipForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Utilisateur"), queryset=get_user_model().objects.none())
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())
    role = forms.ChoiceField(label=_("Rôle"))
    communes = forms.ModelMultipleChoiceField(
        label=_("Territoire (communes)"),
        queryset=Commune.objects.none(),
        required=False,
        help_text=_("Laissez vide pour reprendre le territoire de l'organisation."),
    )
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}), help_text=REASON_HELP)

    def __init__(self, *args, organisations, roles, communes, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True)
        self.fields["user"].queryset = users.order_by("last_name", "first_name", "pk")
        self.fields["user"].label_from_instance = person_name
        self.fields["organisation"].queryset = organisations
        self.fields["role"].choices = [("", "---------")] + [(r, Role(r).label) for r in roles]
        self.fields["communes"].queryset = communes


class ShareForm(forms.Form):
    category = forms.ChoiceField(label=_("Information à partager"))
    organisation = forms.ModelChoiceField(
        label=_("Organisation destinataire"),
        queryset=Organisation.objects.none(),
        help_text=_("Seuls ses membres qui ont déjà accès au dossier verront l'information."),
    )
    ends_on = forms.DateField(label=_("Jusqu'au (inclus)"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label=_("Motif du partage"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Par exemple : le bailleur demande le plan de surendettement pour instruire le dossier."),
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        categories = [
            (key, label)
            for key, label in CATEGORY_LABELS.items()
            if not (case.is_protected and key in PROTECTED_CATEGORIES)
        ]
        self.fields["category"].choices = [("", "---------")] + categories
        # Any organisation; the share only matters to its members who already reach the case.
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")
        self.fields["ends_on"].initial = timezone.localdate() + timedelta(days=90)


class ProtectionForm(forms.Form):
    is_protected = forms.BooleanField(label=_("Dossier protégé"), required=False)
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}), help_text=REASON_HELP)
