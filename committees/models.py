"""Partner committees (commission partenariale / cas complexes): members, sessions, agenda, votes,
attendance, recusals, decisions, amendments and minutes.

The decision itself is a `cases.CommitteeReview`, written by `workflows.services.committee_decide`
(the only way a case leaves the committee step), and only from a collective source: a
`SessionDecision` (tied to the session, with the vote tally as it stood when it was recorded) or a
closed `WrittenProcedure`. Every write goes through `committees/services.py`.
"""

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from cases.formats import person_name
from cases.history import HistoricalRecords
from cases.models import CommitteeReview
from workflows.models import CommitteeDecisionSource


def _own_row_lock() -> tuple:
    # Lock only the decision's own row (PostgreSQL's FOR UPDATE OF); SQLite locks the whole database.
    return ("self",) if connection.vendor == "postgresql" else ()


class Committee(models.Model):
    """A committee covering a territory (a list of communes)."""

    class QuorumRule(models.TextChoices):
        COUNT = "count", _("Nombre minimal de membres votants présents")
        PERCENT = "percent", _("Proportion minimale des membres votants présents")

    class DecisionMode(models.TextChoices):
        MAJORITY = "majority", _("Vote des membres à la majorité")
        CHAIR = "chair", _("Décision collégiale enregistrée par la présidence")

    name = models.CharField(_("nom"), max_length=200, unique=True)
    communes = models.ManyToManyField(
        "cases.Commune", related_name="committees", verbose_name=_("territoire (communes)")
    )
    # Local rules (règlement intérieur): no national text sets them, so each committee sets its own.
    quorum_rule = models.CharField(
        _("règle de quorum"), max_length=10, choices=QuorumRule.choices, default=QuorumRule.COUNT
    )
    quorum_count = models.PositiveSmallIntegerField(
        _("quorum : nombre minimal"), default=3, validators=[MinValueValidator(1)]
    )
    quorum_percent = models.PositiveSmallIntegerField(
        _("quorum : proportion minimale (%)"), default=50, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    decision_mode = models.CharField(
        _("mode de décision"), max_length=10, choices=DecisionMode.choices, default=DecisionMode.MAJORITY
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(m2m_fields=[communes])

    class Meta:
        ordering = ["name"]
        verbose_name = _("commission partenariale")
        verbose_name_plural = _("commissions partenariales")

    def __str__(self):
        return self.name

    def quorum_required(self, voting_members: int) -> int:
        """How many voting members must be present (and not recused) for a decision."""
        if self.quorum_rule == self.QuorumRule.PERCENT:
            return max(1, math.ceil(voting_members * self.quorum_percent / 100))
        return self.quorum_count

    def quorum_label(self) -> str:
        if self.quorum_rule == self.QuorumRule.PERCENT:
            return _("au moins %(p)s %% des membres votants présents") % {"p": self.quorum_percent}
        return _("au moins %(n)s membres votants présents") % {"n": self.quorum_count}


class CommitteeMember(models.Model):
    """A user sitting on a committee for an organisation, with a function.

    Consistency with permissions.Membership: `committees.services.committee_member_add` makes sure the
    user holds the matching commission role (chair and secretary: commission_chair) in that
    organisation, covering the committee's communes, so the case policy and the step grant
    (`cases.review_in_committee`) follow.
    """

    class Function(models.TextChoices):
        CHAIR = "chair", _("Présidence")
        SECRETARY = "secretary", _("Secrétariat")
        MEMBER = "member", _("Membre")

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="committee_seats")
    organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation représentée")
    )
    function = models.CharField(_("fonction"), max_length=10, choices=Function.choices, default=Function.MEMBER)
    has_vote = models.BooleanField(_("voix délibérative"), default=True)
    membership = models.ForeignKey(
        "permissions.Membership", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    # True when the seat created the membership: removing the seat then ends it too.
    membership_created = models.BooleanField(default=False, editable=False)
    is_active = models.BooleanField(_("actif"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["committee", "function", "user__last_name"]
        verbose_name = _("membre de commission")
        constraints = [models.UniqueConstraint(fields=["committee", "user"], name="one_seat_per_user_per_committee")]

    def __str__(self):
        return f"{self.display_name} ({self.organisation})"

    @property
    def display_name(self) -> str:
        return person_name(self.user)

    @property
    def is_bureau(self) -> bool:
        return self.function in (self.Function.CHAIR, self.Function.SECRETARY)


class Session(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Prévue")
        OPEN = "open", _("En cours")
        CLOSED = "closed", _("Close")

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField(_("date et heure"))
    place = models.CharField(_("lieu"), max_length=200, blank=True)
    video_link = models.URLField(_("lien de visioconférence"), blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    opened_at = models.DateTimeField(_("ouverte le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("séance")

    def __str__(self):
        return f"{self.committee} – {self.starts_at:%d/%m/%Y}"

    def clean(self):
        if not self.place.strip() and not self.video_link:
            raise ValidationError({"place": _("Indiquez un lieu ou un lien de visioconférence.")})


class AgendaItem(models.Model):
    """One case on a session's agenda. `kind` is fixed when the case is added."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="agenda_items")
    kind = models.CharField(_("objet"), max_length=10, choices=CommitteeReview.Kind.choices)
    position = models.PositiveIntegerField(_("rang"))
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["session", "position", "pk"]
        verbose_name = _("dossier à l'ordre du jour")
        constraints = [models.UniqueConstraint(fields=["session", "case"], name="case_once_per_session")]

    def __str__(self):
        return f"{self.position}. {self.case.reference}"

    @property
    def is_dalo_loss(self) -> bool:
        return self.kind == CommitteeReview.Kind.DALO_LOSS


class VoteChoice(models.TextChoices):
    LABELLED = "labelled", _("Labellisé")
    ADJOURNED = "adjourned", _("Ajourné")
    NOT_KEPT = "not_kept", _("Non retenu")
    REDIRECTED = "redirected", _("Réorienté")
    LOSS_CONFIRMED = "loss_confirmed", _("Perte du bénéfice DALO confirmée")
    LOSS_NOT_CONFIRMED = "loss_rejected", _("Perte du bénéfice DALO non confirmée")


PRIORITY_CHOICES = (VoteChoice.LABELLED, VoteChoice.ADJOURNED, VoteChoice.NOT_KEPT, VoteChoice.REDIRECTED)
DALO_LOSS_CHOICES = (VoteChoice.LOSS_CONFIRMED, VoteChoice.LOSS_NOT_CONFIRMED)


class WrittenProcedure(CommitteeDecisionSource, models.Model):
    """A procédure écrite: the secretary puts one case to the members in writing, with a response
    deadline; the members vote (Vote rows attached to the procedure) and the secretary records the
    outcome once they have answered: the quorum counts the voting members who responded, and the
    outcome is the majority of the votes cast. Recusals work as in sessions."""

    class Status(models.TextChoices):
        OPEN = "open", _("Ouverte")
        CLOSED = "closed", _("Close")
        CANCELLED = "cancelled", _("Annulée")

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="procedures")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="written_procedures")
    kind = models.CharField(_("objet"), max_length=10, choices=CommitteeReview.Kind.choices)
    reason = models.TextField(_("motif du recours à la procédure écrite"), blank=True)
    deadline = models.DateField(_("réponses attendues au plus tard le"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("ouverte le"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)
    choice = models.CharField(_("issue"), max_length=15, choices=VoteChoice.choices, blank=True)
    tally = models.JSONField(_("décompte des voix"), default=dict, blank=True)
    review = models.OneToOneField(
        "cases.CommitteeReview",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="written_procedure",
        editable=False,
    )
    cancel_reason = models.TextField(_("motif de l'annulation"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("procédure écrite")
        verbose_name_plural = _("procédures écrites")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="open"), name="one_open_procedure_per_case"
            )
        ]

    def __str__(self):
        return f"Procédure écrite {self.case.reference} ({self.get_status_display().lower()})"

    @property
    def is_dalo_loss(self) -> bool:
        return self.kind == CommitteeReview.Kind.DALO_LOSS

    def locked_for_decision(self, *, actor, case, kind: str):
        """Closed by `actor` with its outcome, on this case and kind, not applied yet.

        When the caller closes it in the running transaction (committees.services.procedure_close:
        its row locked and its closing written on this instance, saved with the review), this instance
        is the fresh row: checked in memory, not read again."""
        if self.__dict__.get("_closing_under_lock"):
            ok = (self.review_id, self.closed_by_id, self.case_id, self.kind, self.status) == (
                None,
                actor.pk,
                case.pk,
                kind,
                WrittenProcedure.Status.CLOSED,
            )
            return self if ok else None
        return (
            WrittenProcedure.objects.select_for_update(of=_own_row_lock())
            .filter(pk=self.pk, review__isnull=True, closed_by=actor, case=case, kind=kind)
            .filter(status=WrittenProcedure.Status.CLOSED)
            .first()
        )

    def attach_review(self, review) -> None:
        self.review = review
        self._history_changed = True  # cases.history: a review where there was none, no need to read the last row
        self.save()


# A vote or recusal belongs to exactly one agenda item or one written procedure.
_ONE_TARGET = models.Q(item__isnull=False, procedure__isnull=True) | models.Q(
    item__isnull=True, procedure__isnull=False
)


class Vote(models.Model):
    """A member's opinion or vote on one agenda item (ahead or during the session) or on a written
    procedure. `recorded_by` is set when the secretary recorded it for the member (show of hands)."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, null=True, blank=True, related_name="votes")
    procedure = models.ForeignKey(
        WrittenProcedure, on_delete=models.CASCADE, null=True, blank=True, related_name="votes"
    )
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="votes")
    choice = models.CharField(_("avis"), max_length=15, choices=VoteChoice.choices)
    comment = models.TextField(_("commentaire"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enregistré à main levée par"),
    )
    updated_at = models.DateTimeField(_("enregistré le"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("vote")
        constraints = [
            models.UniqueConstraint(fields=["item", "member"], name="one_vote_per_member_per_item"),
            models.UniqueConstraint(fields=["procedure", "member"], name="one_vote_per_member_per_procedure"),
            models.CheckConstraint(condition=_ONE_TARGET, name="vote_on_item_or_procedure"),
        ]

    def __str__(self):
        return f"{self.member.display_name} : {self.get_choice_display()}"


class Attendance(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="attendance")
    present = models.BooleanField(_("présent"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("présence")
        constraints = [models.UniqueConstraint(fields=["session", "member"], name="one_attendance_per_member")]

    def __str__(self):
        return f"{self.member.display_name} : {'présent' if self.present else 'absent'}"


class Recusal(models.Model):
    """A member stepping aside on one case (agenda item or written procedure: conflict of interest).
    Their vote on it does not count."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, null=True, blank=True, related_name="recusals")
    procedure = models.ForeignKey(
        WrittenProcedure, on_delete=models.CASCADE, null=True, blank=True, related_name="recusals"
    )
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="recusals")
    reason = models.CharField(_("motif du déport"), max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("déport")
        constraints = [
            models.UniqueConstraint(fields=["item", "member"], name="one_recusal_per_member_per_item"),
            models.UniqueConstraint(fields=["procedure", "member"], name="one_recusal_per_member_per_procedure"),
            models.CheckConstraint(condition=_ONE_TARGET, name="recusal_on_item_or_procedure"),
        ]

    def __str__(self):
        return f"Déport de {self.member.display_name} ({self.item or self.procedure})"


class SessionDecision(CommitteeDecisionSource, models.Model):
    """The committee's decision on one agenda item: the CommitteeReview written by the workflow, the
    tally as recorded, and who recorded it. Never edited: corrections are `Amendment` rows.

    Created first (without review), then handed to `workflows.services.committee_decide` as its
    source, which writes the review and links it here in the same transaction."""

    item = models.OneToOneField(AgendaItem, on_delete=models.PROTECT, related_name="decision")
    review = models.OneToOneField(
        "cases.CommitteeReview", on_delete=models.PROTECT, null=True, related_name="session_decision"
    )
    choice = models.CharField(_("décision"), max_length=15, choices=VoteChoice.choices, blank=True)
    mode = models.CharField(_("mode de décision"), max_length=10, choices=Committee.DecisionMode.choices)
    tally = models.JSONField(_("décompte des voix"), default=dict)
    other_landlords = models.ManyToManyField(
        "cases.Organisation", blank=True, related_name="+", verbose_name=_("autres bailleurs pressentis")
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[other_landlords])

    class Meta:
        verbose_name = _("décision de séance")

    def __str__(self):
        return f"Décision {self.item}"

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.pop("_allow_update", False):
            raise ValidationError(_("Une décision enregistrée ne se modifie pas : faites un rectificatif motivé."))
        super().save(*args, **kwargs)

    def locked_for_decision(self, *, actor, case, kind: str):
        """Recorded by `actor` in a session still open, on this case and kind, not applied yet."""
        return (
            SessionDecision.objects.select_for_update(of=_own_row_lock())
            .select_related("item__session")
            .filter(pk=self.pk, review__isnull=True, recorded_by=actor, item__case=case, item__kind=kind)
            .filter(item__session__status=Session.Status.OPEN)
            .first()
        )

    def attach_review(self, review) -> None:
        self.review = review
        self.save(_allow_update=True)  # a session decision is otherwise never edited


class Amendment(models.Model):
    """An audited correction of a recorded decision: what changed, why, by whom."""

    decision = models.ForeignKey(SessionDecision, on_delete=models.PROTECT, related_name="amendments")
    changes = models.JSONField(_("modifications"))  # {field: [old display, new display]}
    reason = models.TextField(_("motif du rectificatif"))
    amended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amended_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["amended_at", "pk"]
        verbose_name = _("rectificatif")

    def __str__(self):
        return f"Rectificatif {self.decision.item} du {self.amended_at:%d/%m/%Y}"


class Minutes(models.Model):
    """A generated procès-verbal. Version 1 at closing; a new version after each later amendment."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="minutes")
    version = models.PositiveSmallIntegerField(_("version"))
    pdf = models.BinaryField(editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    generated_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["pdf"])

    class Meta:
        ordering = ["session", "-version"]
        verbose_name = _("procès-verbal")
        constraints = [models.UniqueConstraint(fields=["session", "version"], name="one_minutes_per_version")]

    def __str__(self):
        return f"Procès-verbal {self.session}, version {self.version}"
