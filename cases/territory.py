"""What a territory sets locally: the département's legal options and thresholds, and its step time limits.

A module of its own (registered with the app's models through cases/models.py) because the legal
deadline rules (cases/deadlines.py) read these settings and the models read those rules.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .history import HistoricalRecords  # simple-history without identical consecutive rows


class DepartementSettings(models.Model):
    """What a département sets locally. Legal defaults cite their text."""

    code = models.CharField(_("département"), max_length=3, primary_key=True)
    # R441-16-1 CCH: the préfet has 3 or 6 months after a favourable COMED decision to get an offer
    # made, depending on the département (cases/deadlines.py holds the list). Empty: the legal value.
    dalo_offer_months = models.PositiveSmallIntegerField(
        _("délai d'offre DALO (mois)"),
        null=True,
        blank=True,
        choices=[(3, _("3 mois")), (6, _("6 mois"))],
        error_messages={
            "invalid_choice": _("Le délai d'offre DALO est de 3 ou 6 mois (article R441-16-1 du CCH), rien d'autre.")
        },
        help_text=_(
            "Laisser vide pour appliquer l'article R441-16-1 du CCH (3 mois, 6 mois dans certains départements)."
        ),
    )
    # R441-10 CCH: at least 10 days to answer an offer; a territory may give more, never less.
    offer_reply_days = models.PositiveSmallIntegerField(
        _("délai de réponse du ménage à une offre (jours)"),
        default=10,
        validators=[
            MinValueValidator(
                10, _("Le délai de réponse ne peut pas être inférieur à 10 jours (article R441-10 du CCH).")
            ),
            MaxValueValidator(60),
        ],
    )
    # Affordability thresholds used by the match check (cases/matching.py). The taux d'effort formula
    # is regulated but its thresholds are set locally (PDALHPD, CIA, landlords' policies): these are
    # defaults to adjust per département, not legal values.
    max_effort_rate = models.DecimalField(
        _("taux d'effort maximal (%)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("35"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100"))],
    )
    min_daily_rest_per_uc = models.DecimalField(
        _("reste-à-vivre minimal (€ par jour et par unité de consommation)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("paramètres du département")
        constraints = [
            # R441-16-1 CCH knows 3 or 6 months only; R441-10 CCH gives at least 10 days to answer.
            models.CheckConstraint(
                condition=Q(dalo_offer_months__isnull=True) | Q(dalo_offer_months__in=[3, 6]),
                name="dalo_offer_months_3_or_6",
            ),
            models.CheckConstraint(condition=Q(offer_reply_days__gte=10), name="offer_reply_days_at_least_10"),
        ]

    def __str__(self):
        return self.code


def _days(label, default, minimum=1):
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MinValueValidator(minimum), MaxValueValidator(365)]
    )


class StepTimeLimits(models.Model):
    """Kept under the "notifications" app label, where its table, history and audit-chain entries were
    first written (a new label would change the model labels the audit chain's hashes cover).

    Per-territory time limits (calendar days) and escalation delays (working days).

    The defaults are the design choices of shared/domain.md (no national deadline exists for the
    diagnostic or the committee). The household's reply period is not here: it is a legal deadline
    (R441-10 CCH), set per département in cases.DepartementSettings and counted in cases/deadlines.py.
    A département without a row uses the defaults.
    """

    departement = models.CharField(_("département"), max_length=3, primary_key=True)
    diagnostic_days = _days(_("diagnostic social (jours)"), 30)
    committee_days = _days(_("examen en commission (jours)"), 30)
    proposal_days = _days(_("instruction et proposition du bailleur (jours)"), 30)
    caleol_days = _days(_("décision CALEOL (jours)"), 30)
    lease_days = _days(_("signature du bail (jours)"), 30)
    reply_warning_working_days = _days(_("rappel avant la fin du délai de réponse (jours ouvrés)"), 2)
    escalate_after_working_days = _days(_("escalade après le retard initial (jours ouvrés)"), 5)
    dalo_warning_days = models.CharField(
        _("alertes avant l'échéance DALO (jours, séparés par des virgules)"), max_length=30, default="30,7"
    )
    history = HistoricalRecords(app="notifications")

    class Meta:
        app_label = "notifications"
        verbose_name = _("délais du territoire")
        verbose_name_plural = _("délais des territoires")

    def __str__(self):
        return self.departement

    def step_days(self, node_name: str) -> int | None:
        return getattr(self, f"{node_name}_days", None)

    def dalo_warnings(self) -> list[int]:
        return sorted({int(x) for x in self.dalo_warning_days.split(",") if x.strip().isdigit()}, reverse=True)
