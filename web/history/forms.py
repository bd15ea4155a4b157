from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.forms_common import DateInput

from .timeline import KIND_LABELS

# The period filter, as codes in the URL (?periode=30j): how far back from today.
PERIODS = {
    "7j": (_("7 derniers jours"), timedelta(days=7)),
    "30j": (_("30 derniers jours"), timedelta(days=30)),
    "3m": (_("3 derniers mois"), timedelta(days=92)),
    "12m": (_("12 derniers mois"), timedelta(days=366)),
}


class TimelineFilterForm(forms.Form):
    """Kinds of event and period, all in the URL as codes (?kinds=step&kinds=change&periode=30j)."""

    kinds = forms.MultipleChoiceField(
        label=_("Types d'événements"), required=False, widget=forms.CheckboxSelectMultiple
    )
    periode = forms.ChoiceField(
        label=_("Période"),
        required=False,
        choices=[("", _("Toute la période"))] + [(code, label) for code, (label, _delta) in PERIODS.items()],
    )
    date_from = forms.DateField(label=_("Du"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Au"), required=False, widget=DateInput)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [(k, KIND_LABELS[k]) for k in kinds]

    def clean(self):
        data = super().clean()
        if data.get("periode") and not data.get("date_from"):
            data["date_from"] = timezone.localdate() - PERIODS[data["periode"]][1]
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("La date de fin doit être postérieure ou égale à la date de début."))
        return data
