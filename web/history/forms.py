from django import forms
from django.utils.translation import gettext_lazy as _

from .timeline import KIND_LABELS


class TimelineFilterForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("Types d'événements"), required=False, widget=forms.CheckboxSelectMultiple
    )
    date_from = forms.DateField(label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [(k, KIND_LABELS[k]) for k in kinds]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("La date de fin doit être postérieure ou égale à la date de début."))
        return data
