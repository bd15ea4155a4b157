"""The domain: organisations, households, priority cases and what happens to them.

Every model keeps a full history (django-simple-history): a case's history is evidence in DALO
appeals and injonction proceedings.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from . import choices, territory  # noqa: F401  (territory: its models register with this app)
from .deadlines import case_departement, dalo_offer_deadline
from .history import HistoricalRecords  # simple-history without identical consecutive rows
from .validators import validate_insee_code, validate_nud

MONEY = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class Commune(models.Model):
    """A French commune, identified by its INSEE code (reference data from Etalab)."""

    insee_code = models.CharField(_("code INSEE"), max_length=5, primary_key=True, validators=[validate_insee_code])
    name = models.CharField(_("nom"), max_length=120)
    departement = models.CharField(_("département"), max_length=3)
    postal_codes = models.CharField(_("codes postaux"), max_length=120, blank=True)
    population = models.PositiveIntegerField(_("population"), default=0)
    epci_siren = models.CharField(_("SIREN de l'EPCI"), max_length=9, blank=True)
    epci_name = models.CharField(_("EPCI"), max_length=160, blank=True)
    is_qpv_commune = models.BooleanField(_("compte au moins un QPV"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("commune")

    def __str__(self):
        return f"{self.name} ({self.insee_code})"


class Organisation(models.Model):
    name = models.CharField(_("nom"), max_length=200, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=choices.OrganisationKind.choices)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True)
    communes = models.ManyToManyField(
        Commune, blank=True, related_name="organisations", verbose_name=_("communes couvertes")
    )
    history = HistoricalRecords(m2m_fields=[communes])

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")

    def __str__(self):
        return self.name


def _optional_organisation(label, related_name: str = "+"):
    """An optional link to a partner organisation (designated landlord, réservataire)."""
    return models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name=related_name, verbose_name=label
    )


class Household(models.Model):
    nud = models.CharField(_("numéro unique (NUD)"), max_length=18, unique=True, validators=[validate_nud])
    applicant_last_name = models.CharField(_("nom du demandeur"), max_length=120)
    applicant_first_name = models.CharField(_("prénom du demandeur"), max_length=120)
    applicant_birth_date = models.DateField(_("date de naissance du demandeur"))
    residence_status = models.CharField(
        _("situation au regard du séjour"),
        max_length=20,
        choices=choices.ResidenceStatus.choices,
        default=choices.ResidenceStatus.FRENCH,
    )
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    address = models.CharField(_("adresse actuelle"), max_length=250, blank=True)
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("commune actuelle")
    )
    housing_situation = models.CharField(
        _("situation de logement"), max_length=20, choices=choices.HousingSituation.choices
    )
    housing_since = models.DateField(_("dans cette situation depuis"), null=True, blank=True)
    tax_income_n2 = models.DecimalField(_("revenu fiscal de référence N-2 (€)"), null=True, blank=True, **MONEY)
    monthly_wages = models.DecimalField(_("salaires mensuels (€)"), default=0, **MONEY)
    monthly_rsa = models.DecimalField(_("RSA mensuel (€)"), default=0, **MONEY)
    monthly_aah = models.DecimalField(_("AAH mensuelle (€)"), default=0, **MONEY)
    monthly_family_benefits = models.DecimalField(_("prestations familiales mensuelles (€)"), default=0, **MONEY)
    monthly_other_income = models.DecimalField(_("autres ressources mensuelles (€)"), default=0, **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("ménage")

    def __str__(self):
        return f"{self.applicant_last_name.upper()} {self.applicant_first_name} ({self.nud})"

    @property
    def monthly_income(self) -> Decimal:
        return (
            self.monthly_wages
            + self.monthly_rsa
            + self.monthly_aah
            + self.monthly_family_benefits
            + self.monthly_other_income
        )


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    first_name = models.CharField(_("prénom"), max_length=120)
    last_name = models.CharField(_("nom"), max_length=120)
    relationship = models.CharField(_("lien"), max_length=20, choices=choices.Relationship.choices)
    birth_date = models.DateField(_("date de naissance"))
    shared_custody = models.BooleanField(_("garde alternée"), default=False)
    pregnancy = models.BooleanField(_("grossesse en cours"), default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["birth_date"]
        verbose_name = _("membre du ménage")

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class Case(models.Model):
    """A household's priority case, from flagging to rehousing or closure."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="cases", verbose_name=_("ménage"))
    status = models.CharField(
        _("étape"),
        max_length=20,
        choices=choices.CaseStatus.choices,
        default=choices.CaseStatus.DIAGNOSTIC,
        db_index=True,
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="cases", verbose_name=_("organisation référente")
    )
    referent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referent_cases",
        verbose_name=_("travailleur social référent"),
    )
    is_protected = models.BooleanField(
        _("dossier protégé"),
        default=False,
        help_text=_("Victime de violences ou à la demande : adresse et contact masqués, recherche par nom limitée."),
    )
    is_dalo = models.BooleanField(_("ménage reconnu DALO"), default=False)
    comed_decision_date = models.DateField(_("date de la décision de la COMED"), null=True, blank=True)
    dalo_offer_deadline = models.DateField(_("date limite d'offre DALO"), null=True, blank=True)
    designated_landlord = _optional_organisation(_("bailleur désigné"), related_name="designated_cases")
    target_reservataire = _optional_organisation(_("réservataire cible"), related_name="oriented_cases")
    refusal_count = models.PositiveSmallIntegerField(_("nombre de refus"), default=0)
    dalo_loss_review_pending = models.BooleanField(_("perte du bénéfice DALO à examiner"), default=False)
    created_at = models.DateTimeField(_("signalé le"), auto_now_add=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    closure_reason = models.CharField(
        _("motif de clôture"), max_length=30, choices=choices.ClosureReason.choices, blank=True
    )
    closure_comment = models.TextField(_("commentaire de clôture"), blank=True)
    # A copy of "a committee has examined the case" (a CommitteeReview exists), so the commission's
    # list scope (permissions.policy) filters on this row alone; derived, hence not in the history.
    decided_in_committee = models.BooleanField(_("examiné en commission"), default=False, editable=False)
    history = HistoricalRecords(excluded_fields=["decided_in_committee"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dossier")
        indexes = [
            # The commission's case list, newest first: without it the list walks every recent case
            # still at the diagnostic step.
            models.Index(
                F("created_at").desc(),
                F("id").desc(),
                condition=Q(status="committee") | Q(decided_in_committee=True),
                name="case_commission_list",
            ),
            # The landlord's case list (permissions.policy: decided cases only), newest first: the
            # commission index would also walk the many recent cases still waiting for the committee.
            models.Index(
                F("created_at").desc(), F("id").desc(), condition=Q(decided_in_committee=True), name="case_decided_list"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(closed_at__isnull=True), name="one_open_case_per_household"
            )
        ]
        permissions = [
            ("do_diagnostic", "Réaliser le diagnostic social"),
            ("review_in_committee", "Examiner en commission"),
            ("make_proposal", "Faire une proposition de logement"),
            ("record_caleol", "Enregistrer la décision CALEOL"),
            ("record_reply", "Enregistrer la réponse du ménage"),
            ("record_lease", "Enregistrer la signature du bail"),
            ("close_case", "Clore le dossier"),
        ]

    def __str__(self):
        return self.reference

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        writes_comed = update_fields is None or "comed_decision_date" in update_fields
        if writes_comed and "comed_decision_date" in self.__dict__:
            loaded = getattr(self, "_loaded_comed_date", None)
            changed = self.comed_decision_date != loaded or (self.dalo_offer_deadline is None) == bool(
                self.is_dalo and self.comed_decision_date
            )
            if changed:
                self.refresh_dalo_offer_deadline()
                self._loaded_comed_date = self.comed_decision_date
                if update_fields is not None:
                    kwargs["update_fields"] = {*update_fields, "dalo_offer_deadline"}
        # The flag only goes from False to True (CommitteeReview.save sets it): an instance read
        # before the review was written must not clear it.
        writes_flag = update_fields is None or "decided_in_committee" in update_fields
        if self.pk and not self.decided_in_committee and writes_flag:
            self.decided_in_committee = CommitteeReview.objects.filter(case_id=self.pk).exists()
        self.__dict__.pop("_ppgdid_reach", None)  # who reaches the case may change (permissions.policy)
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_comed_date = instance.__dict__.get("comed_decision_date")
        return instance

    def refresh_dalo_offer_deadline(self) -> None:
        """The préfet's deadline follows the COMED decision date (R441-16-1 CCH, cases/deadlines.py):
        recomputed whenever that date changes, so the history row carries both."""
        if not self.is_dalo or not self.comed_decision_date:
            self.dalo_offer_deadline = None
            return
        self.dalo_offer_deadline = dalo_offer_deadline(self.comed_decision_date, case_departement(self))

    def clean(self):
        if self.is_dalo and not self.comed_decision_date:
            raise ValidationError(
                {"comed_decision_date": _("Pour un ménage DALO, la date de la décision de la COMED est obligatoire.")}
            )

    @property
    def reference(self) -> str:
        return f"PP-{self.created_at:%Y}-{self.pk:06d}" if self.pk and self.created_at else "PP-nouveau"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    # For lists: get_FOO_display() translates every label of the field's choices on each call
    # (Django hashes them), which costs more than the rest of a 50-row page.
    @property
    def status_label(self) -> str:
        return choices.CaseStatus(self.status).label

    @property
    def closure_reason_label(self) -> str:
        return choices.ClosureReason(self.closure_reason).label if self.closure_reason else ""


class CaseCriterion(models.Model):
    """One L441-1 priority criterion of a case, with who raised it and on what evidence."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="criteria")
    code = models.CharField(_("critère"), max_length=10, choices=choices.PriorityCriterion.choices)
    source = models.CharField(_("source"), max_length=20, choices=choices.CriterionSource.choices)
    evidence_note = models.TextField(_("justificatif"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("critère de priorité")
        constraints = [models.UniqueConstraint(fields=["case", "code"], name="one_criterion_code_per_case")]

    def __str__(self):
        return self.get_code_display()


class Diagnostic(models.Model):
    """The social worker's assessment (diagnostic social)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="diagnostic")
    family_situation = models.TextField(_("situation familiale"), blank=True)
    monthly_resources = models.DecimalField(_("ressources mensuelles du ménage (€)"), default=0, **MONEY)
    monthly_housing_cost = models.DecimalField(_("coût du logement actuel (€/mois)"), default=0, **MONEY)
    monthly_other_charges = models.DecimalField(_("autres charges fixes (€/mois)"), default=0, **MONEY)
    debts_amount = models.DecimalField(_("montant des dettes (€)"), default=0, **MONEY)
    debts_description = models.TextField(_("dettes et plan de surendettement"), blank=True)
    over_indebtedness_plan = models.BooleanField(_("plan de surendettement en cours"), default=False)
    entitlements = models.TextField(_("droits ouverts ou à ouvrir"), blank=True)
    health_autonomy = models.TextField(_("santé et autonomie"), blank=True)
    accessibility_need = models.BooleanField(_("besoin d'un logement accessible (PMR)"), default=False)
    max_floor_without_lift = models.PositiveSmallIntegerField(_("étage maximal sans ascenseur"), null=True, blank=True)
    work_school_care_locations = models.TextField(_("lieux de travail, d'école et de soins"), blank=True)
    housing_history = models.TextField(_("parcours résidentiel"), blank=True)
    independent_living = models.TextField(_("capacité à habiter de façon autonome"), blank=True)
    support_needed = models.CharField(
        _("accompagnement nécessaire"),
        max_length=10,
        choices=choices.SupportMeasure.choices,
        default=choices.SupportMeasure.NONE,
    )
    violence_facts = models.TextField(_("faits de violence et mesures de protection"), blank=True)
    areas_to_avoid = models.ManyToManyField(Commune, blank=True, related_name="+", verbose_name=_("communes à éviter"))
    wishes = models.TextField(_("souhaits du ménage"), blank=True)
    urgency = models.CharField(
        _("urgence"), max_length=10, choices=choices.Urgency.choices, default=choices.Urgency.MEDIUM
    )
    recommended_typology = models.CharField(
        _("typologie recommandée"), max_length=2, choices=choices.Typology.choices, blank=True
    )
    recommended_communes = models.ManyToManyField(
        Commune, blank=True, related_name="+", verbose_name=_("secteurs recommandés")
    )
    social_narrative = models.TextField(_("évaluation sociale détaillée"), blank=True)
    committee_synthesis = models.TextField(_("synthèse pour la commission"), blank=True)
    recommendation = models.TextField(_("préconisation"), blank=True)
    completed_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[areas_to_avoid, recommended_communes])

    class Meta:
        verbose_name = _("diagnostic social")

    def __str__(self):
        return f"Diagnostic {self.case}"

    @property
    def reste_a_vivre(self) -> Decimal:
        """Monthly income left once housing and fixed charges are paid."""
        return self.monthly_resources - self.monthly_housing_cost - self.monthly_other_charges


class CommitteeReview(models.Model):
    """A partner-committee outcome on a case (one per examination)."""

    class Kind(models.TextChoices):
        PRIORITY = "priority", _("Examen de la priorité")
        DALO_LOSS = "dalo_loss", _("Examen de la perte du bénéfice DALO")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="committee_reviews")
    kind = models.CharField(_("objet"), max_length=10, choices=Kind.choices, default=Kind.PRIORITY)
    outcome = models.CharField(_("décision"), max_length=12, choices=choices.CommitteeOutcome.choices, blank=True)
    orientation = models.CharField(_("orientation"), max_length=10, choices=choices.Orientation.choices, blank=True)
    target_reservataire = _optional_organisation(_("réservataire cible"))
    designated_landlord = _optional_organisation(_("bailleur désigné"))
    support_measure = models.CharField(
        _("mesure d'accompagnement"), max_length=10, choices=choices.SupportMeasure.choices, blank=True
    )
    missing_items = models.TextField(_("éléments manquants"), blank=True)
    adjourned_until = models.DateField(_("à compléter avant le"), null=True, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    redirected_to = models.CharField(
        _("réorienté vers"), max_length=15, choices=choices.RedirectTarget.choices, blank=True
    )
    dalo_benefit_lost = models.BooleanField(_("perte du bénéfice DALO confirmée"), null=True, blank=True)
    # A DALO loss needs an offer adapted to the household's needs and capacities (L441-2-3 and
    # R*441-16-2 CCH; CE 374241): the committee states it explicitly, having seen the match alerts.
    offer_adapted = models.BooleanField(
        _("la commission déclare l'offre refusée adaptée aux besoins et capacités du ménage"), null=True, blank=True
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("décidé le"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["decided_at"]
        verbose_name = _("examen en commission")

    def __str__(self):
        return f"{self.get_kind_display()} : {self.get_outcome_display() or self.dalo_benefit_lost}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if not self.case.decided_in_committee:
            self.case.decided_in_committee = True
            self.case.save(update_fields=["decided_in_committee"])

    def clean(self):
        required = _required_by_outcome(self)
        missing = {
            field: message
            for field, message in required.items()
            if getattr(self, self._meta.get_field(field).attname) in (None, "")
        }
        if missing:
            raise ValidationError(missing)
        if self.kind == CommitteeReview.Kind.DALO_LOSS and self.dalo_benefit_lost and self.offer_adapted is not True:
            raise ValidationError(
                {
                    "offer_adapted": _(
                        "La perte du bénéfice DALO ne peut être confirmée que si la commission déclare que l'offre "
                        "refusée était adaptée aux besoins et capacités du ménage (alertes d'adéquation examinées)."
                    )
                }
            )


def _required_by_outcome(review) -> dict:
    """The fields each committee outcome must state, with the message shown when one is missing."""
    if review.kind == CommitteeReview.Kind.DALO_LOSS:
        return {
            "dalo_benefit_lost": _("Indiquez si la perte du bénéfice DALO est confirmée."),
            "reason": _("Motivez la décision sur la perte du bénéfice DALO."),
        }
    outcome = choices.CommitteeOutcome
    return {"outcome": _("Choisissez la décision de la commission.")} | {
        outcome.LABELLED: {
            "orientation": _("Indiquez l'orientation du ménage."),
            "designated_landlord": _("Désignez le bailleur qui fera les propositions."),
        },
        outcome.ADJOURNED: {"missing_items": _("Indiquez ce qui manque pour statuer.")},
        outcome.NOT_KEPT: {"reason": _("Indiquez le motif de non-retenue.")},
        outcome.REDIRECTED: {"redirected_to": _("Indiquez vers quoi le ménage est réorienté.")},
    }.get(review.outcome, {})


class Dwelling(models.Model):
    landlord = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="dwellings", verbose_name=_("bailleur")
    )
    rpls_id = models.CharField(_("identifiant RPLS"), max_length=20, blank=True)
    address = models.CharField(_("adresse"), max_length=250)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="+", verbose_name=_("commune"))
    in_qpv = models.BooleanField(_("en QPV"), default=False)
    typology = models.CharField(_("typologie"), max_length=2, choices=choices.Typology.choices)
    surface_m2 = models.DecimalField(
        _("surface (m²)"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("9"))]
    )
    floor = models.SmallIntegerField(_("étage"), default=0, validators=[MinValueValidator(-1), MaxValueValidator(60)])
    has_lift = models.BooleanField(_("ascenseur"), default=False)
    wheelchair_accessible = models.BooleanField(_("accessible en fauteuil roulant"), default=False)
    financing = models.CharField(_("financement"), max_length=4, choices=choices.FinancingTier.choices, default="PLUS")
    rent = models.DecimalField(_("loyer (€/mois)"), **MONEY)
    charges = models.DecimalField(_("charges (€/mois)"), **MONEY)
    reservataire = _optional_organisation(_("contingent réservataire"), related_name="reserved_dwellings")
    available_from = models.DateField(_("disponible le"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("logement")

    def __str__(self):
        return f"{self.typology} {self.address}, {self.commune.name}"


class DwellingOffer(models.Model):
    """One round of a dwelling's allocation: the dwelling put forward to several candidates.

    The CALEOL examines at least three candidates per dwelling (R441-3 CCH) unless a préfet-designated
    DALO household goes alone or too few candidates exist; the exception is recorded with its reason.
    Each candidate is a Proposal; the dwelling goes to the best-ranked allocated candidate still in
    the running, then down the ranking when that household refuses (cases/offers.py).
    """

    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="offers", verbose_name=_("logement"))
    status = models.CharField(
        _("état"), max_length=10, choices=choices.OfferStatus.choices, default=choices.OfferStatus.OPEN
    )
    fewer_candidates_reason = models.CharField(
        _("motif : moins de trois candidats"), max_length=15, choices=choices.FewerCandidatesReason.choices, blank=True
    )
    fewer_candidates_detail = models.TextField(_("précisions sur le nombre de candidats"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("mise en location")
        constraints = [
            models.UniqueConstraint(fields=["dwelling"], condition=Q(status="open"), name="one_open_offer_per_dwelling")
        ]

    def __str__(self):
        return f"{self.dwelling} ({self.get_status_display()})"

    def clean(self):
        if self.fewer_candidates_reason == choices.FewerCandidatesReason.TOO_FEW and not self.fewer_candidates_detail:
            raise ValidationError(
                {"fewer_candidates_detail": _("Expliquez pourquoi il y a moins de trois candidats pour ce logement.")}
            )


class Proposal(models.Model):
    """A dwelling put forward to a household's case: one candidate of a DwellingOffer."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="proposals")
    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("logement")
    )
    # The landlord that made the proposal (the dwelling's, copied at creation): the landlord's case
    # scope (permissions.policy) reads it through the (landlord, case) index, without joining dwellings.
    landlord = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("bailleur")
    )
    offer = models.ForeignKey(
        DwellingOffer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("mise en location"),
    )
    estimated_apl = models.DecimalField(_("APL estimée (€/mois)"), default=0, **MONEY)
    match_warnings = models.JSONField(_("alertes d'adéquation"), default=list, blank=True)
    registered_letter = models.BooleanField(_("notifiée par lettre recommandée"), default=False)
    delivered_on = models.DateField(
        _("lettre remise (ou première présentation) le"),
        null=True,
        blank=True,
        help_text=_("Pour une lettre recommandée, le délai de réponse court à partir de cette date."),
    )
    dalo_notice_given_at = models.DateTimeField(
        _("ménage informé (offre DALO et conséquences d'un refus) le"), null=True, blank=True
    )
    match_override_reason = models.TextField(_("motif de maintien malgré les alertes"), blank=True)
    notified_on = models.DateField(_("offre notifiée le"), null=True, blank=True)
    reply_deadline = models.DateField(_("date limite de réponse"), null=True, blank=True)
    lease_signed_on = models.DateField(_("bail signé le"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Derived from the dwelling, hence not in the history: a new history column would change the
    # digest of every row already chained (audit.chain.row_digests reads whole rows).
    history = HistoricalRecords(excluded_fields=["landlord"])

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("proposition")
        constraints = [models.UniqueConstraint(fields=["offer", "case"], name="one_proposal_per_case_and_offer")]
        indexes = [models.Index(fields=["landlord", "case"], name="proposal_landlord_case")]

    def __str__(self):
        return f"Proposition {self.dwelling} – {self.case}"

    def save(self, *args, **kwargs):
        if self.landlord_id is None:
            self.landlord_id = self.dwelling.landlord_id
        super().save(*args, **kwargs)


class CaleolDecision(models.Model):
    """The landlord's allocation-committee decision on one proposal (five types, R441-3 CCH)."""

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="caleol_decision")
    decision = models.CharField(_("décision"), max_length=25, choices=choices.CaleolDecisionType.choices)
    rank = models.PositiveSmallIntegerField(_("rang"), null=True, blank=True, validators=[MinValueValidator(1)])
    missing_document = models.CharField(_("pièce manquante"), max_length=200, blank=True)
    condition_deadline = models.DateField(_("à fournir avant le"), null=True, blank=True)
    non_allocation_reason = models.CharField(
        _("motif de non-attribution"), max_length=20, choices=choices.NonAllocationReason.choices, blank=True
    )
    inadmissibility_reason = models.CharField(
        _("motif d'irrecevabilité"), max_length=20, choices=choices.InadmissibilityReason.choices, blank=True
    )
    reasons_detail = models.TextField(_("motivation"), blank=True)
    decided_on = models.DateField(_("date de la CALEOL"))
    condition_met_on = models.DateField(_("pièce manquante reçue le"), null=True, blank=True)
    condition_lapsed_at = models.DateTimeField(_("condition suspensive caduque le"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("décision CALEOL")

    def __str__(self):
        return self.get_decision_display()

    def clean(self):
        kind = choices.CaleolDecisionType
        errors = {}
        if self.decision == kind.ALLOCATED_RANKED and not self.rank:
            errors["rank"] = _("Indiquez le rang du ménage dans le classement.")
        if self.decision == kind.SUSPENSIVE_CONDITION:
            if not self.missing_document:
                errors["missing_document"] = _("Indiquez la pièce manquante.")
            if not self.condition_deadline:
                errors["condition_deadline"] = _("Indiquez la date limite pour fournir la pièce.")
            elif self.decided_on and self.condition_deadline <= self.decided_on:
                errors["condition_deadline"] = _("La date limite doit être postérieure à la CALEOL.")
        if self.decision == kind.NOT_ALLOCATED:
            if not self.non_allocation_reason:
                errors["non_allocation_reason"] = _("Une non-attribution doit être motivée.")
            elif self.non_allocation_reason == choices.NonAllocationReason.OTHER and not self.reasons_detail.strip():
                errors["reasons_detail"] = _("Précisez le motif de non-attribution.")
        if self.decision == kind.INADMISSIBLE and not self.inadmissibility_reason:
            errors["inadmissibility_reason"] = _("Indiquez le motif d'irrecevabilité.")
        if self.decision == kind.ALLOCATED and self.rank not in (None, 1):
            errors["rank"] = _(
                "Une attribution simple place le ménage au rang 1 : choisissez l'attribution par classement."
            )
        if self.rank and not self.is_allocation:
            errors["rank"] = _("Seule une attribution donne un rang.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_allocation(self) -> bool:
        return self.decision in {
            choices.CaleolDecisionType.ALLOCATED,
            choices.CaleolDecisionType.ALLOCATED_RANKED,
            choices.CaleolDecisionType.SUSPENSIVE_CONDITION,
        }

    @property
    def closes_case(self) -> bool:
        """An inadmissibility closes the priority case only when its reason is general; one tied to
        this dwelling (its income ceiling) ends this proposal and the case waits for another offer."""
        return (
            self.decision == choices.CaleolDecisionType.INADMISSIBLE
            and choices.INADMISSIBILITY_SCOPE.get(self.inadmissibility_reason) == choices.InadmissibilityScope.GENERAL
        )

    @property
    def returns_to_proposal(self) -> bool:
        """Not allocated, or inadmissible for this dwelling only: back to waiting for an offer."""
        return self.decision == choices.CaleolDecisionType.NOT_ALLOCATED or (
            self.decision == choices.CaleolDecisionType.INADMISSIBLE and not self.closes_case
        )

    @property
    def effective_rank(self) -> int | None:
        """An allocation without a stated rank is rank 1."""
        return (self.rank or 1) if self.is_allocation else None


class HouseholdReply(models.Model):
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="reply")
    answer = models.CharField(_("réponse"), max_length=10, choices=choices.ReplyAnswer.choices)
    refusal_motive = models.CharField(
        _("motif du refus"), max_length=20, choices=choices.RefusalMotive.choices, blank=True
    )
    legitimate = models.BooleanField(_("motif légitime"), null=True, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    replied_on = models.DateField(_("date de la réponse"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("réponse du ménage")

    def __str__(self):
        return self.get_answer_display()

    def clean(self):
        if self.answer == choices.ReplyAnswer.REFUSED and not self.refusal_motive:
            raise ValidationError({"refusal_motive": _("Indiquez le motif du refus.")})
        if self.answer in (choices.ReplyAnswer.ACCEPTED, choices.ReplyAnswer.LAPSED) and self.refusal_motive:
            raise ValidationError({"refusal_motive": _("Seul un refus a un motif de refus.")})


# --- Clock pauses ------------------------------------------------------------------------------------
# Domain data that the workflow's deadline rule reads (workflows/deadlines.py). It keeps the
# "notifications" app label under which its table, history and audit-chain entries were first written:
# a new label would rename the table and change the model labels that the audit chain's hashes cover.


class ClockPause(models.Model):
    """The case waits on the household or on a document: its step clock stops meanwhile."""

    class Reason(models.TextChoices):
        HOUSEHOLD = "household", _("En attente du ménage")
        DOCUMENT = "document", _("En attente d'un document")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="clock_pauses")
    reason = models.CharField(_("motif"), max_length=10, choices=Reason.choices)
    comment = models.CharField(_("précision"), max_length=250, blank=True)
    started_at = models.DateTimeField(_("début"))
    ended_at = models.DateTimeField(_("fin"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    history = HistoricalRecords(app="notifications")

    class Meta:
        app_label = "notifications"
        ordering = ["started_at"]
        verbose_name = _("suspension du délai")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(ended_at__isnull=True), name="one_open_pause_per_case")
        ]

    def __str__(self):
        return f"{self.get_reason_display()} ({self.started_at:%d/%m/%Y})"


class CaseNote(models.Model):
    """A dated note on a case (the contact log): a phone call, a visit, an e-mail, a meeting.

    `category` is a data category of the visibility matrix (permissions/categories.py): only readers
    who may see that category see the note. A note is never edited: a correction is a new note that
    names the one it corrects (`corrects`). Written by workflows.notes.note_add only.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes", verbose_name=_("dossier"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("type de contact"), max_length=10, choices=choices.NoteKind.choices)
    contact_date = models.DateField(_("date du contact"))
    category = models.CharField(_("visibilité"), max_length=20)
    text = models.TextField(_("note"))
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrige la note"),
    )
    mentioned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mentionner un collègue"),
    )
    created_at = models.DateTimeField(_("écrite le"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("note de suivi")
        verbose_name_plural = _("notes de suivi")
        ordering = ["-contact_date", "-pk"]
        indexes = [models.Index(fields=["case", "-contact_date", "-id"], name="casenote_case_date")]

    def __str__(self):
        return f"{self.get_kind_display()} du {self.contact_date:%d/%m/%Y}"
