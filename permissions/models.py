from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.history import HistoricalRecords  # simple-history without identical consecutive rows

from .categories import CATEGORY_LABELS
from .roles import Role

CATEGORY_CHOICES = list(CATEGORY_LABELS.items())


class Membership(models.Model):
    """Ties a user to an organisation, a role and a territory (communes). A user may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    communes = models.ManyToManyField(
        "cases.Commune",
        blank=True,
        related_name="+",
        verbose_name=_("territoire (communes)"),
        help_text=_("Vide : le territoire de l'organisation."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(m2m_fields=[communes])

    class Meta:
        verbose_name = _("rattachement")
        constraints = [models.UniqueConstraint(fields=["user", "organisation", "role"], name="one_membership_per_role")]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} – {self.organisation}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._sync_group()

    def delete(self, *args, **kwargs):
        self.is_active = False
        self._sync_group()
        return super().delete(*args, **kwargs)

    def _sync_group(self):
        """Keep the user in the role group exactly while the membership is active."""
        forget_memberships(self.user)
        group = role_group(self.organisation, self.role)
        if self.is_active:
            self.user.groups.add(group)
        else:
            self.user.groups.remove(group)


def forget_memberships(user) -> None:
    """Drop the per-object caches after the user's memberships changed."""
    for attr in ("_ppgdid_grants", "_ppgdid_case_roles", "_ppgdid_delegators"):
        if hasattr(user, attr):
            delattr(user, attr)


def role_group(organisation, role: str) -> Group:
    """The group holding the object grants of one role in one organisation.

    Grants go to groups rather than users, so a new colleague inherits the organisation's open tasks.
    """
    organisation_id = getattr(organisation, "pk", organisation)  # an organisation or its id
    return role_groups([(organisation_id, role)])[(organisation_id, role)]


def role_group_name(organisation_id, role: str) -> str:
    """The name of the group a role in an organisation stands for."""
    return f"org{organisation_id}:{role}"


def role_groups(pairs, known=None) -> dict:
    """{(organisation id, role): its group} for many pairs: one query, plus one per missing group;
    none when `known` ({name: group}, groups already read) holds them all."""
    names = {(org_id, role): role_group_name(org_id, role) for org_id, role in pairs}
    if known is not None and all(name in known for name in names.values()):
        return {pair: known[name] for pair, name in names.items()}
    found = {g.name: g for g in Group.objects.filter(name__in=names.values())}
    return {pair: found.get(name) or Group.objects.get_or_create(name=name)[0] for pair, name in names.items()}


class CaseShare(models.Model):
    """A social worker's decision to share one hidden category of one case with one organisation.

    Example: the debt plan with the landlord that asks for it. Logged (history), shown on the case,
    revocable, and over by itself after `ends_on`.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="shares", verbose_name=_("dossier"))
    category = models.CharField(_("information partagée"), max_length=20, choices=CATEGORY_CHOICES)
    organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("partagée avec")
    )
    reason = models.TextField(_("motif du partage"))
    ends_on = models.DateField(_("jusqu'au (inclus)"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("partagé le"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("partage d'information")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["case", "organisation"], name="caseshare_case_org")]

    def __str__(self):
        return f"{self.get_category_display()} → {self.organisation}"

    def is_active_on(self, day) -> bool:
        return self.revoked_at is None and self.ends_on >= day


class BreakGlassAccess(models.Model):
    """A supervisor or auditor opened the masked data of a protected case, with a stated reason.

    The access lasts `PPGDID_BREAK_GLASS_MINUTES` (default 60); the referent is notified.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("dossier"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("motif"))
    opened_at = models.DateTimeField(_("ouvert le"), auto_now_add=True)
    expires_at = models.DateTimeField(_("jusqu'à"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("accès exceptionnel")
        verbose_name_plural = _("accès exceptionnels")
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["case", "user", "expires_at"], name="breakglass_case_user")]

    def __str__(self):
        return f"{self.user} – {self.case} – {self.opened_at:%d/%m/%Y %H:%M}"


class Delegation(models.Model):
    """A user names a colleague of their organisation to stand in for them during an absence.

    From `starts_on` to `ends_on` (inclusive) the delegate sees the steps the delegator has taken (in
    their queue and on the case: permissions.policy, permissions.queues) and may take them
    (workflows.services.task_claim). Outside the period, or once revoked, nothing is left of it.
    """

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_given", verbose_name=_("absent")
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="delegations_received",
        verbose_name=_("remplaçant"),
    )
    organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au (inclus)"))
    reason = models.TextField(_("motif"))
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("délégation")
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["delegate", "organisation", "ends_on"], name="delegation_delegate_org")]

    def __str__(self):
        return f"{self.delegator} → {self.delegate} ({self.starts_on:%d/%m/%Y}–{self.ends_on:%d/%m/%Y})"

    def is_active_on(self, day) -> bool:
        return self.revoked_at is None and self.starts_on <= day <= self.ends_on


def active_delegations(day):
    """Delegations in force on `day` (not revoked, inside their period)."""
    return Delegation.objects.filter(revoked_at__isnull=True, starts_on__lte=day, ends_on__gte=day)
