"""Documents of a case and the territory's letter templates."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.history import HistoricalRecords

from .kinds import LETTER_KINDS, DocumentKind
from .placeholders import check_template


def stored_name(instance, filename):
    # A neutral name: the person's own file name often carries a name or a date of birth.
    return f"documents/{instance.case_id}/{filename}"


class Document(models.Model):
    """One paper of a case: uploaded (checked by content) or generated (a letter). When the case is
    anonymised the file leaves the storage; the row keeps its kind and dates."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="documents", verbose_name=_("dossier")
    )
    kind = models.CharField(_("type"), max_length=20, choices=DocumentKind.choices)
    file = models.FileField(_("fichier"), upload_to=stored_name, max_length=200, blank=True)
    content_type = models.CharField(_("format"), max_length=40)
    size = models.PositiveIntegerField(_("taille (octets)"), default=0)
    # The offer a letter is about.
    proposal = models.ForeignKey(
        "cases.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("offre")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("déposé par")
    )
    created_at = models.DateTimeField(_("déposé le"), default=timezone.now)
    file_deleted_at = models.DateTimeField(_("fichier supprimé le"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("document")
        indexes = [models.Index(fields=["case", "kind"], name="document_case_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.case_id})"

    @property
    def generated(self) -> bool:
        return self.kind in LETTER_KINDS

    @property
    def extension(self) -> str:
        return self.file.name.rsplit(".", 1)[-1] if self.file else ""


class LetterTemplate(models.Model):
    """A territory's (département's) text of one letter. Without a row, the default text of
    documents/letters.py applies. Placeholders in braces: see placeholders.PLACEHOLDERS."""

    departement = models.CharField(_("département"), max_length=3)
    kind = models.CharField(
        _("courrier"), max_length=20, choices=[(k.value, k.label) for k in DocumentKind if k in LETTER_KINDS]
    )
    subject = models.CharField(_("objet"), max_length=200)
    body = models.TextField(
        _("texte"),
        help_text=_("Un paragraphe par bloc séparé d'une ligne vide. Les champs entre accolades sont remplacés."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("modifié par")
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["departement", "kind"]
        verbose_name = _("modèle de courrier")
        verbose_name_plural = _("modèles de courriers")
        constraints = [models.UniqueConstraint(fields=["departement", "kind"], name="one_letter_template_per_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.departement})"

    def clean(self):
        check_template(self.subject, self.body)
