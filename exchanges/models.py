"""Bookkeeping of the imports. Not the domain data (households are written through audit.bulk with
history): jobs, and per NUD what the last import wrote, to tell a value a social worker changed
since then from a value the file changes."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.history import HistoricalRecords


class JobKind(models.TextChoices):
    APPLICATIONS = "applications", _("Demandes (registre ou fichier partagé)")
    POOL_RESULTS = "pool_results", _("Résultats de l'outil de l'État (désignations, attributions)")
    SIAO = "siao", _("Orientations du SIAO")


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


class PoolResultKind(models.TextChoices):
    DESIGNATION = "designation", _("Désignation sur un contingent")
    ALLOCATION = "allocation", _("Attribution d'un logement")


class PoolResult(models.Model):
    """One result of the State's priority-pool tool brought back onto a case (exchanges.state_pool):
    the household designated to a réservataire's contingent, or a dwelling allocated to it. A dated
    event of the case with its own history; the case's progress itself stays with the workflow."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("dossier"))
    kind = models.CharField(_("type"), max_length=12, choices=PoolResultKind.choices)
    on = models.DateField(_("date"))
    reservataire = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("contingent réservataire")
    )
    dwelling_rpls = models.CharField(_("identifiant RPLS du logement"), max_length=20, blank=True)
    dwelling = models.ForeignKey(
        "cases.Dwelling", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("logement")
    )
    job = models.ForeignKey(ImportJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["case", "on", "pk"]
        verbose_name = _("résultat de l'outil de l'État")
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "on"], name="exchanges_one_pool_result_per_case_kind_day")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} du {self.on:%d/%m/%Y}"
