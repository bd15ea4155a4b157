from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import ClockPause

from .models import NotificationPreference


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["email_mode"]
        widgets = {"email_mode": forms.RadioSelect}
        labels = {"email_mode": _("Comment voulez-vous recevoir vos notifications par courriel ?")}


class ClockPauseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Pourquoi le dossier est-il en attente ?"), choices=ClockPause.Reason.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Précision (facultatif)"),
        max_length=250,
        required=False,
        help_text=_("Par exemple : le document attendu. N'écrivez pas d'information sur la santé ou les violences."),
    )
