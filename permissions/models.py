from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import HistoricalRecords  # simple-history without identical consecutive rows

from .roles import Role


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
        group = role_group(self.organisation, self.role)
        if self.is_active:
            self.user.groups.add(group)
        else:
            self.user.groups.remove(group)


def role_group(organisation, role: str) -> Group:
    """The group holding the object grants of one role in one organisation.

    Grants go to groups rather than users, so a new colleague inherits the organisation's open tasks.
    """
    group, _created = Group.objects.get_or_create(name=f"org{organisation.pk}:{role}")
    return group
