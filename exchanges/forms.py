from django import forms
from django.utils.translation import gettext_lazy as _

from . import mappings

MAX_UPLOAD = 20 * 2**20  # the upload page; larger files go through the command or the partner API


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Fichier (CSV ou XLSX, 20 Mo au plus)"))
    mapping = forms.ChoiceField(label=_("Modèle de colonnes"), initial=f"{mappings.DEFAULT}@1")
    dry_run = forms.BooleanField(label=_("Simulation : vérifier sans rien enregistrer"), required=False)
    skip_invalid = forms.BooleanField(
        label=_("Importer les lignes valides même si d'autres sont rejetées"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = mappings.choices()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Format non pris en charge : fichier .csv ou .xlsx attendu."))
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("Fichier trop volumineux (20 Mo au plus) : utilisez la commande d'import."))
        return upload


class LayoutUploadForm(forms.Form):
    """Upload of a file in one of the declared layouts (exchanges.layouts): no column mapping."""

    file = forms.FileField(label=_("Fichier CSV (5 Mo au plus)"))
    dry_run = forms.BooleanField(label=_("Simulation : vérifier sans rien enregistrer"), required=False)
    skip_invalid = forms.BooleanField(
        label=_("Importer les lignes valides même si d'autres sont rejetées"), required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Format non pris en charge : fichier .csv ou .xlsx attendu."))
        if upload.size > 5 * 2**20:
            raise forms.ValidationError(_("Fichier trop volumineux (5 Mo au plus) : utilisez la commande d'import."))
        return upload
