"""Territory steering: the allocation record, the yearly targets of each territory, and the aggregates.

French terms kept in code: ``reservataire`` (the holder of a reservation contingent: the State, Action
Logement, a commune or the EPCI; none means the landlord's own stock), ``qpv`` (quartier prioritaire de la
politique de la ville), ``cia`` (convention intercommunale d'attribution, where the conference sets its
objectives), ``epci`` (the intercommunal authority, identified by its SIREN: the "territory" here).
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.history import HistoricalRecords  # simple-history without identical consecutive rows
from cases.models import Case, Commune, Organisation, Proposal


def _pct(label, default, help_text):
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=help_text,
    )


def _contingent():
    """The réservataire whose contingent the dwelling belongs to; none: the landlord's own stock."""
    return models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contingent réservataire"),
        help_text=_("Vide : parc non réservé du bailleur."),
    )


class TerritoryYear(models.Model):
    """What a territory (EPCI) sets for one year: the first-quartile threshold and the allocation targets.

    Legal defaults cite their text; the conference may raise them, the law sets the floors.
    """

    epci_siren = models.CharField(_("SIREN de l'EPCI"), max_length=9)
    epci_name = models.CharField(_("EPCI"), max_length=160, blank=True)
    year = models.PositiveSmallIntegerField(_("année"), validators=[MinValueValidator(2017), MaxValueValidator(2100)])
    # Article L441-1 CCH (loi Égalité et citoyenneté, 2017): the income per consumption unit below which
    # an applicant is in the first quartile, published each year by arrêté per EPCI.
    first_quartile_threshold = models.DecimalField(
        _("seuil du premier quartile (€ par an et par unité de consommation)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    threshold_published_on = models.DateField(_("seuil publié le (arrêté)"), null=True, blank=True)
    priority_quota_pct = _pct(
        _("part des attributions aux ménages DALO, à défaut prioritaires (%)"),
        "25",
        _(
            "Article L441-1 du CCH : au moins 25 % des attributions annuelles de chaque réservataire et du bailleur "
            "sur son parc non réservé."
        ),
    )
    q1_outside_qpv_pct = _pct(
        _("part des attributions hors QPV au premier quartile ou aux relogés ANRU (%)"),
        "25",
        _("Article L441-1 du CCH : au moins 25 % des attributions suivies de baux signés hors QPV."),
    )
    others_inside_qpv_pct = _pct(
        _("part des attributions en QPV aux demandeurs des autres quartiles (%)"),
        "50",
        _("Objectif fixé par la conférence intercommunale du logement (CIA) : 50 % à défaut."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("objectifs annuels du territoire")
        verbose_name_plural = _("objectifs annuels des territoires")
        ordering = ["epci_siren", "-year"]
        constraints = [models.UniqueConstraint(fields=["epci_siren", "year"], name="one_target_row_per_epci_year")]

    def __str__(self):
        return f"{self.epci_name or self.epci_siren} {self.year}"


class Allocation(models.Model):
    """A signed lease, with what the quotas need as it stood at the allocation decision (CALEOL).

    Written by a receiver when the lease is recorded (steering/signals.py) and by `steering_backfill`.
    """

    class Quartile(models.IntegerChoices):
        FIRST = 1, _("Premier quartile")
        OTHER = 2, _("Deuxième à quatrième quartile")

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    landlord = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("bailleur"))
    reservataire = _contingent()
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="+", verbose_name=_("commune"))
    epci_siren = models.CharField(_("SIREN de l'EPCI"), max_length=9, blank=True)
    in_qpv = models.BooleanField(_("en QPV"))
    typology = models.CharField(_("typologie"), max_length=2)
    is_dalo = models.BooleanField(_("ménage DALO"))
    # Every case of this product is a priority household (L441-1 CCH criteria or DALO).
    is_priority = models.BooleanField(_("ménage prioritaire"), default=True)
    urban_renewal = models.BooleanField(_("relogé dans le cadre du renouvellement urbain"), default=False)
    decided_on = models.DateField(_("date de la décision d'attribution (CALEOL)"))
    lease_signed_on = models.DateField(_("bail signé le"), db_index=True)
    annual_income = models.DecimalField(_("ressources annuelles (€)"), max_digits=11, decimal_places=2, null=True)
    consumption_units = models.DecimalField(_("unités de consommation"), max_digits=4, decimal_places=1, null=True)
    income_per_uc = models.DecimalField(
        _("ressources annuelles par unité de consommation (€)"), max_digits=11, decimal_places=2, null=True
    )
    quartile_threshold = models.DecimalField(
        _("seuil du premier quartile appliqué (€)"), max_digits=9, decimal_places=2, null=True
    )
    quartile = models.PositiveSmallIntegerField(_("quartile"), choices=Quartile.choices, null=True, blank=True)
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attribution")
        ordering = ["-lease_signed_on"]
        indexes = [models.Index(fields=["epci_siren", "lease_signed_on"], name="allocation_epci_lease")]

    def __str__(self):
        return f"Attribution {self.case} ({self.lease_signed_on:%d/%m/%Y})"


class DeclaredAllocations(models.Model):
    """Allocations made outside this product in one year (households not followed here, from the SNE),
    per landlord and contingent: the quotas count them with the recorded ones."""

    epci_siren = models.CharField(_("SIREN de l'EPCI"), max_length=9)
    year = models.PositiveSmallIntegerField(_("année"))
    landlord = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("bailleur"))
    reservataire = _contingent()
    outside_qpv = models.PositiveIntegerField(_("attributions hors QPV"), default=0)
    outside_qpv_first_quartile = models.PositiveIntegerField(
        _("dont premier quartile ou relogés du renouvellement urbain"), default=0
    )
    inside_qpv = models.PositiveIntegerField(_("attributions en QPV"), default=0)
    inside_qpv_other_quartiles = models.PositiveIntegerField(_("dont demandeurs des autres quartiles"), default=0)
    source = models.CharField(_("source"), max_length=120, default="SNE")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attributions déclarées hors outil")
        verbose_name_plural = _("attributions déclarées hors outil")
        constraints = [
            models.UniqueConstraint(
                fields=["epci_siren", "year", "landlord", "reservataire"],
                nulls_distinct=False,
                name="one_declared_row_per_contingent",
            ),
            models.CheckConstraint(
                condition=Q(outside_qpv_first_quartile__lte=models.F("outside_qpv"))
                & Q(inside_qpv_other_quartiles__lte=models.F("inside_qpv")),
                name="declared_parts_within_totals",
            ),
        ]

    def __str__(self):
        return f"{self.landlord} / {self.reservataire or _('parc propre')} {self.year}"


# --- aggregates (derived, rebuilt at will: no history) ---------------------------------------------------


STATCOUNT_KEY = (
    "metric",
    "month",
    "epci_siren",
    "departement",
    "commune",
    "landlord_id",
    "reservataire_id",
    "dim",
    "value",
)


class StatCount(models.Model):
    """One counter of the steering aggregates: how many cases, offers or allocations share this key.

    Maintained incrementally (steering/aggregates.py): each case's contribution (a set of keys) is kept in
    CaseContribution, and a refresh applies only the difference. Empty strings and 0 mean "not applicable"
    (a unique key needs no NULL).
    """

    metric = models.CharField(max_length=20)
    month = models.CharField(max_length=7, blank=True)  # "YYYY-MM", or "" for a stock figure
    epci_siren = models.CharField(max_length=9, blank=True)
    departement = models.CharField(max_length=3, blank=True)
    commune = models.CharField(max_length=5, blank=True)
    landlord_id = models.IntegerField(default=0)
    reservataire_id = models.IntegerField(default=0)
    dim = models.CharField(max_length=30, blank=True)
    value = models.CharField(max_length=60, blank=True)
    n = models.IntegerField(default=0)

    KEY_FIELDS = STATCOUNT_KEY

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=list(STATCOUNT_KEY),
                name="statcount_key",
            )
        ]
        indexes = [
            models.Index(fields=["metric", "epci_siren", "month"], name="statcount_epci"),
            models.Index(fields=["metric", "commune", "month"], name="statcount_commune"),
            models.Index(fields=["metric", "landlord_id", "month"], name="statcount_landlord"),
            models.Index(fields=["metric", "reservataire_id", "month"], name="statcount_reservataire"),
        ]

    def __str__(self):
        return f"{self.metric} {self.month} {self.dim}={self.value}: {self.n}"


class CaseContribution(models.Model):
    """The keys a case adds to StatCount, as last applied; `dirty` asks the next refresh to recompute it."""

    case_id = models.IntegerField(primary_key=True)
    keys = models.JSONField(default=list)
    dirty = models.BooleanField(default=True)
    refreshed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["case_id"], condition=Q(dirty=True), name="contribution_dirty")]

    def __str__(self):
        return f"case {self.case_id}"


class RollupCount(models.Model):
    """StatCount summed over the keys a view does not need: one row per grain and coarse key.

    A grain keeps some of commune, landlord, réservataire and dim and blanks the others ("" or 0), so a
    territory or landlord view sums a few hundred rows instead of every fine key of its scope (at
    1,000,000 cases a territory's monthly flows span 243,000 fine keys). Fed from the same deltas as
    StatCount, in the same transaction (steering/aggregates.py `GRAINS`, `_apply`); always equal to
    StatCount summed per grain (tests/steering/test_rollup.py).
    """

    grain = models.CharField(max_length=40)
    metric = models.CharField(max_length=20)
    month = models.CharField(max_length=7, blank=True)
    epci_siren = models.CharField(max_length=9, blank=True)
    departement = models.CharField(max_length=3, blank=True)
    commune = models.CharField(max_length=5, blank=True)
    landlord_id = models.IntegerField(default=0)
    reservataire_id = models.IntegerField(default=0)
    dim = models.CharField(max_length=30, blank=True)
    value = models.CharField(max_length=60, blank=True)
    n = models.IntegerField(default=0)

    KEY_FIELDS = ("grain", *STATCOUNT_KEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grain", *STATCOUNT_KEY], name="rollupcount_key")]
        indexes = [
            models.Index(fields=["grain", "metric", "epci_siren", "month"], name="rollup_epci"),
            models.Index(fields=["grain", "metric", "commune", "month"], name="rollup_commune"),
            models.Index(fields=["grain", "metric", "landlord_id", "month"], name="rollup_landlord"),
        ]

    def __str__(self):
        return f"{self.grain} {self.metric} {self.month} {self.dim}={self.value}: {self.n}"
