"""Retention settings per territory, legal holds, the record of anonymisations and art. 15 exports."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.history import HistoricalRecords
from permissions.categories import CATEGORY_LABELS

from .rules import DEFAULTS

CATEGORY_CHOICES = list(CATEGORY_LABELS.items())


class RetentionRule(models.Model):
    """A territory's (département's) retention for one data category, overriding privacy.rules.DEFAULTS."""

    departement = models.CharField(_("département"), max_length=3)
    category = models.CharField(_("catégorie de données"), max_length=20, choices=CATEGORY_CHOICES)
    months_after_closure = models.PositiveSmallIntegerField(
        _("conservation après la clôture (mois)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_("Vide : conservé comme statistique sans personne (pas d'anonymisation)."),
    )
    source = models.TextField(_("source et justification"))
    confirmed_by_dpo_on = models.DateField(_("validé par le DPO le"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("règle de conservation")
        verbose_name_plural = _("règles de conservation")
        constraints = [models.UniqueConstraint(fields=["departement", "category"], name="one_rule_per_category")]

    def __str__(self):
        return f"{self.departement} {self.get_category_display()}"


def rules_for(departement: str) -> dict[str, tuple[int | None, str, bool]]:
    """{category: (months or None, source, confirmed by the DPO)} for one département."""
    result = {c: (d.months, str(d.source), False) for c, d in DEFAULTS.items()}
    for rule in RetentionRule.objects.filter(departement=departement):
        result[rule.category] = (rule.months_after_closure, rule.source, rule.confirmed_by_dpo_on is not None)
    return result


class LegalHold(models.Model):
    """Suspends every retention rule of a case while it lasts (litigation, DALO appeal)."""

    class Kind(models.TextChoices):
        LITIGATION = "litigation", _("Contentieux")
        DALO_APPEAL = "dalo_appeal", _("Recours DALO")
        OTHER = "other", _("Autre obligation légale")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="legal_holds")
    kind = models.CharField(_("motif"), max_length=12, choices=Kind.choices)
    reason = models.TextField(_("précisions"))
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(_("posée le"), default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(_("levée le"), null=True, blank=True)
    lift_reason = models.TextField(_("motif de la levée"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("gel légal")
        verbose_name_plural = _("gels légaux")

    def __str__(self):
        return f"{self.case_id} {self.get_kind_display()}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class Anonymisation(models.Model):
    """One retention rule applied to one case: what was scrubbed, when, by which rule."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="anonymisations")
    category = models.CharField(_("catégorie de données"), max_length=20, choices=CATEGORY_CHOICES)
    rule = models.CharField(_("règle"), max_length=100)
    applied_at = models.DateTimeField(_("appliquée le"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("anonymisation")
        constraints = [models.UniqueConstraint(fields=["case", "category"], name="one_anonymisation_per_category")]

    def __str__(self):
        return f"{self.case_id} {self.category}"


def export_path(instance, filename):
    return f"privacy/exports/{instance.case_id}/{filename}"


class SubjectAccessExport(models.Model):
    """An art. 15 export handed to the household (kept as proof of what was given, until the case's
    identity rule deletes it from storage)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="subject_access_exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("produit le"), default=timezone.now)
    pdf_file = models.FileField(_("PDF"), upload_to=export_path, blank=True)
    json_file = models.FileField(_("JSON"), upload_to=export_path, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("export du droit d'accès")

    def __str__(self):
        return f"{self.case_id} {self.created_at:%Y-%m-%d}"

    def delete(self, *args, **kwargs):
        raise ValidationError("Les exports sont conservés ; l'anonymisation supprime leurs fichiers.")
