"""Bookkeeping of the imports. Not the domain data (households are written through audit.bulk with
history): jobs, and per NUD what the last import wrote, to tell a value a social worker changed
since then from a value the file changes."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    APPLICATIONS = "applications", _("Demandes (registre ou fichier partagé)")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    FAILED = "failed", _("Échec")


class ImportJob(models.Model):
    """One import run from the upload page or the partner API (the command runs without a job)."""

    kind = models.CharField(_("type"), max_length=20, choices=JobKind.choices, default=JobKind.APPLICATIONS)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    mapping = models.CharField(_("modèle de colonnes"), max_length=60)
    file_name = models.CharField(_("fichier"), max_length=200)
    content = models.BinaryField(_("contenu"), editable=False)
    dry_run = models.BooleanField(_("simulation"), default=False)
    skip_invalid = models.BooleanField(_("importer les lignes valides seulement"), default=False)
    idempotency_key = models.CharField(max_length=100, blank=True)
    status = models.CharField(_("état"), max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    summary = models.JSONField(_("résultat"), default=dict, blank=True)
    report = models.TextField(_("rapport (CSV)"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="exchanges_one_job_per_idempotency_key",
            )
        ]

    def __str__(self):
        return f"Import n° {self.pk}"


class ImportedApplication(models.Model):
    """Per NUD, the values the last import wrote (canonical strings) and their digest."""

    nud = models.CharField(max_length=18, unique=True)
    household = models.ForeignKey("cases.Household", on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)
    values = models.JSONField(default=dict)
    run = models.UUIDField(default=uuid.uuid4)  # the run that last saw this NUD (duplicate lines)
    line = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("demande importée")

    def __str__(self):
        return f"Demande importée n° {self.pk}"
