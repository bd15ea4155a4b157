"""The reception network: desks, the shared information script, commune reference figures, the
contacts recorded at the desks, referrals (pre-flags) and the household's access to its own view.

Every model keeps its history (cases.history.HistoricalRecords) except the one-time codes, which
are short-lived secrets (hashed) whose use is recorded on the access itself.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.choices import HousingSituation, Typology
from cases.history import HistoricalRecords

from .choices import Channel, CodeChannel, DeskLevel, PreFlagSource, PreFlagStatus, Topic


class Network(models.Model):
    """The reception network of one territory (usually an EPCI), run by a head organisation
    (Nantes: the Maison de l'Habitant). Its network heads are the members of that organisation
    holding the network-head role."""

    name = models.CharField(_("nom du réseau"), max_length=200, unique=True)
    head_organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("tête de réseau")
    )
    communes = models.ManyToManyField("cases.Commune", related_name="+", verbose_name=_("communes du territoire"))
    history = HistoricalRecords(m2m_fields=[communes])

    class Meta:
        ordering = ["name"]
        verbose_name = _("réseau d'accueil")
        verbose_name_plural = _("réseaux d'accueil")

    def __str__(self):
        return self.name


class Desk(models.Model):
    """A reception desk (lieu d'accueil) of the network, committed to one service level."""

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="desks", verbose_name=_("réseau"))
    organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    name = models.CharField(_("nom du lieu"), max_length=200)
    level = models.PositiveSmallIntegerField(_("niveau de service"), choices=DeskLevel.choices)
    address = models.CharField(_("adresse"), max_length=250)
    commune = models.ForeignKey("cases.Commune", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune"))
    opening_hours = models.TextField(_("horaires d'ouverture"))
    wheelchair_accessible = models.BooleanField(_("accessible en fauteuil roulant"), default=False)
    accessibility = models.CharField(
        _("accessibilité (précisions)"),
        max_length=250,
        blank=True,
        help_text=_("Par exemple : boucle magnétique, accueil en langue des signes, rampe d'accès."),
    )
    languages = models.CharField(_("langues parlées"), max_length=200, default="français")
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    services = models.TextField(
        _("services auxquels le lieu s'engage"), help_text=_("Un service par ligne."), blank=True
    )
    is_active = models.BooleanField(_("ouvert"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["commune__name", "name"]
        verbose_name = _("lieu d'accueil")
        verbose_name_plural = _("lieux d'accueil")

    def __str__(self):
        return f"{self.name} ({self.commune.name})"

    @property
    def service_list(self) -> list[str]:
        return [line.strip() for line in self.services.splitlines() if line.strip()]


class ScriptVersion(models.Model):
    """One version of a network's shared information script (référentiel d'information).

    The network head edits a draft (number empty) and publishes it: it then gets the next number and
    its date and is never changed again; the previous versions stay readable.
    """

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="script_versions", verbose_name=_("réseau")
    )
    number = models.PositiveIntegerField(_("version"), null=True, blank=True)
    note = models.CharField(_("ce qui change dans cette version"), max_length=250, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["network", "-number"]
        verbose_name = _("version du référentiel d'information")
        constraints = [
            models.UniqueConstraint(fields=["network", "number"], name="one_script_number_per_network"),
            models.UniqueConstraint(
                fields=["network"], condition=Q(published_at__isnull=True), name="one_script_draft_per_network"
            ),
        ]

    def __str__(self):
        return f"{self.network} – v{self.number}" if self.number else f"{self.network} – brouillon"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class ScriptEntry(models.Model):
    """One answer of the script: a topic, the desk level from which it applies, public or not."""

    version = models.ForeignKey(ScriptVersion, on_delete=models.CASCADE, related_name="entries")
    topic = models.CharField(_("thème"), max_length=20, choices=Topic.choices)
    level = models.PositiveSmallIntegerField(
        _("à partir du niveau"),
        choices=DeskLevel.choices,
        default=DeskLevel.INFORMATION,
        help_text=_("Les lieux de ce niveau et des niveaux supérieurs donnent cette information."),
    )
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"))
    is_public = models.BooleanField(
        _("publié aussi sur les pages publiques"),
        default=True,
        help_text=_("Décochez pour un texte réservé aux agents."),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["topic", "level", "position", "pk"]
        verbose_name = _("fiche du référentiel")
        verbose_name_plural = _("fiches du référentiel")

    def __str__(self):
        return self.title


class CommuneStock(models.Model):
    """Reference figures of one commune and typology, loaded from CSV (`manage.py load_commune_stock`):
    social housing stock (RPLS), accessible dwellings, allocations of the last 12 months and median
    waiting time of all applicants (SNE). The product adds its own figures on priority households."""

    commune = models.ForeignKey("cases.Commune", on_delete=models.PROTECT, related_name="+")
    typology = models.CharField(_("typologie"), max_length=2, choices=Typology.choices)
    dwellings = models.PositiveIntegerField(_("logements sociaux"))
    accessible_dwellings = models.PositiveIntegerField(_("logements accessibles"), default=0)
    allocations_12_months = models.PositiveIntegerField(_("attributions sur 12 mois"), null=True, blank=True)
    median_wait_months = models.PositiveSmallIntegerField(_("délai d'attente médian (mois)"), null=True, blank=True)
    reference_year = models.PositiveSmallIntegerField(_("année de référence"), validators=[MinValueValidator(2000)])
    history = HistoricalRecords()

    class Meta:
        ordering = ["commune", "typology"]
        verbose_name = _("parc social d'une commune")
        constraints = [models.UniqueConstraint(fields=["commune", "typology"], name="one_stock_row_per_typology")]

    def __str__(self):
        return f"{self.commune_id} {self.typology}"


class PreFlag(models.Model):
    """A referral to a social worker's organisation: what the referral needs and nothing more (data
    minimisation): who to call back, the criteria that may apply, whether the case should be
    protected. A social worker of that organisation confirms it (the case is opened by the workflow
    service) or declines it with a reason.

    Made at a reception desk (source "desk"), or imported from the SIAO's referrals of homeless or
    sheltered households (source "siao", exchanges.siao): no desk then, but the referring structure
    and the SIAO's own reference, unique within the SIAO's département (the import is idempotent)."""

    target_organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("orienté vers")
    )
    source = models.CharField(_("origine"), max_length=5, choices=PreFlagSource.choices, default=PreFlagSource.DESK)
    desk = models.ForeignKey(
        Desk, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("lieu d'accueil")
    )
    referrer_name = models.CharField(_("structure orientatrice"), max_length=200, blank=True)
    referrer_siret = models.CharField(_("SIRET de la structure orientatrice"), max_length=14, blank=True)
    siao_reference = models.CharField(_("référence SIAO"), max_length=40, blank=True)
    siao_departement = models.CharField(_("département du SIAO"), max_length=3, blank=True)
    last_name = models.CharField(_("nom"), max_length=120)
    first_name = models.CharField(_("prénom"), max_length=120)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.EmailField(_("courriel"), blank=True)
    commune = models.ForeignKey(
        "cases.Commune", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune actuelle")
    )
    housing_situation = models.CharField(_("situation de logement"), max_length=20, choices=HousingSituation.choices)
    criteria = models.JSONField(_("critères pouvant s'appliquer"), default=list)
    protection_suggested = models.BooleanField(_("protection du dossier conseillée"), default=False)
    status = models.CharField(
        _("état"), max_length=10, choices=PreFlagStatus.choices, default=PreFlagStatus.PENDING, db_index=True
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("orienté le"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("examiné le"), null=True, blank=True)
    decline_reason = models.TextField(_("motif"), blank=True)
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("dossier")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pré-signalement")
        constraints = [
            models.UniqueConstraint(
                fields=["siao_departement", "siao_reference"],
                condition=Q(source=PreFlagSource.SIAO),
                name="one_siao_referral_per_territory",
            ),
            models.CheckConstraint(
                condition=Q(source=PreFlagSource.SIAO) | Q(desk__isnull=False), name="desk_preflag_has_a_desk"
            ),
        ]

    def __str__(self):
        return f"Pré-signalement n° {self.pk}"

    @property
    def referred_by(self) -> str:
        """Who made the referral, for the pages: the desk, or the SIAO and the referring structure."""
        if self.source == PreFlagSource.SIAO:
            siret = f", SIRET {self.referrer_siret}" if self.referrer_siret else ""
            return f"SIAO ({self.referrer_name}{siret}), réf. {self.siao_reference}"
        return self.desk.name if self.desk_id else ""

    @property
    def criteria_labels(self) -> list[str]:
        from cases.choices import PriorityCriterion

        return [PriorityCriterion(code).label for code in self.criteria if code in PriorityCriterion.values]


class Contact(models.Model):
    """Information delivered at a desk: no personal data (a referral carries its own, on the pre-flag)."""

    desk = models.ForeignKey(Desk, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("lieu"))
    on = models.DateField(_("date"), default=timezone.localdate)
    level = models.PositiveSmallIntegerField(_("niveau du lieu"), choices=DeskLevel.choices)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices, default=Channel.IN_PERSON)
    referral = models.OneToOneField(
        PreFlag, on_delete=models.PROTECT, null=True, blank=True, related_name="contact", verbose_name=_("orientation")
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-on", "-pk"]
        verbose_name = _("information délivrée")
        indexes = [models.Index(fields=["desk", "on"], name="contact_desk_day")]

    def __str__(self):
        return f"Contact n° {self.pk} ({self.on:%d/%m/%Y})"


class ContactTopic(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="topics")
    topic = models.CharField(_("thème"), max_length=20, choices=Topic.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("thème abordé")
        constraints = [models.UniqueConstraint(fields=["contact", "topic"], name="one_topic_per_contact")]

    def __str__(self):
        return self.get_topic_display()


class HouseholdAccess(models.Model):
    """The household's (or a person it authorises) access to its own view (/mon-dossier/).

    The social worker hands a personal access code (shown once, stored hashed); each sign-in also
    needs a one-time code sent to `destination` (an e-mail address or a mobile number)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("dossier"))
    holder = models.CharField(
        _("titulaire"),
        max_length=120,
        default="Le ménage",
        help_text=_("Le ménage, ou la personne qu'il autorise (par exemple : « Sa fille, Mme X »)."),
    )
    channel = models.CharField(_("envoi du code à usage unique par"), max_length=5, choices=CodeChannel.choices)
    destination = models.CharField(_("adresse ou numéro d'envoi"), max_length=254)
    code_hash = models.CharField(max_length=128, editable=False)
    desk = models.ForeignKey(
        Desk,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lieu d'accueil référent"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("remis le"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valable jusqu'au"))
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    last_signed_in_at = models.DateTimeField(_("dernière connexion"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["code_hash"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("accès du ménage à son dossier")

    def __str__(self):
        return f"Accès n° {self.pk}"

    def is_active_at(self, moment) -> bool:
        return self.revoked_at is None and self.expires_at > moment


class OneTimeCode(models.Model):
    """A one-time code sent for one sign-in (hashed, 10 minutes, a few attempts)."""

    access = models.ForeignKey(HouseholdAccess, on_delete=models.CASCADE, related_name="one_time_codes")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["access", "created_at"], name="otp_access_created")]

    def __str__(self):
        return f"Code à usage unique n° {self.pk}"
