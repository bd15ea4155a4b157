from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import content
from .kinds import LETTER_KINDS, DocumentKind
from .models import LetterTemplate


class UploadForm(forms.Form):
    prefix = "piece"  # the documents page holds two forms: distinct field ids
    kind = forms.ChoiceField(label=_("Type de document"))
    file = forms.FileField(
        label=_("Fichier"),
        allow_empty_file=True,  # the content check gives its own French message for an empty file
        help_text=_("PDF, JPEG ou PNG, 10 Mo au plus."),
        error_messages={"required": _("Choisissez un fichier."), "invalid": _("Le fichier n'a pas pu être lu.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "---------")] + [(k, DocumentKind(k).label) for k in kinds]
        self.fields["kind"].error_messages["required"] = _("Choisissez le type de document.")
        self.fields["kind"].error_messages["invalid_choice"] = _("Choisissez un type de document de la liste.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            content.checked(upload)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return upload


class LetterForm(forms.Form):
    prefix = "courrier"
    kind = forms.ChoiceField(
        label=_("Courrier"),
        choices=[(k.value, k.label) for k in DocumentKind if k in LETTER_KINDS],
        error_messages={"required": _("Choisissez un courrier."), "invalid_choice": _("Choisissez un courrier.")},
    )


class LetterTemplateForm(forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = ["subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 18})}
        error_messages = {
            "subject": {"required": _("Écrivez l'objet du courrier.")},
            "body": {"required": _("Écrivez le texte du courrier.")},
        }
