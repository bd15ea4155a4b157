"""Security events of a professional's account: single sign-on logins and refusals, second-factor
enrolment, checks (passed, failed, recovery code used). One row per event, never updated; each row
has its history row, which the audit chain links (audit/signals.py), so a deleted or altered event
shows as a break. No personal data: the user's id, the method, the request id."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.history import HistoricalRecords


class SecurityEvent(models.Model):
    class Kind(models.TextChoices):
        SSO_LOGIN = "sso_login", _("Connexion unique réussie")
        SSO_REFUSED = "sso_refused", _("Connexion unique refusée")
        OTP_ENROLLED = "otp_enrolled", _("Second facteur enrôlé")
        OTP_PASSED = "otp_passed", _("Second facteur vérifié")
        OTP_FAILED = "otp_failed", _("Second facteur refusé")
        RECOVERY_USED = "recovery_used", _("Code de secours utilisé")
        RECOVERY_RENEWED = "recovery_renewed", _("Codes de secours renouvelés")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="security_events"
    )
    kind = models.CharField(_("événement"), max_length=20, choices=Kind.choices)
    detail = models.CharField(_("détail"), max_length=200, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(_("date"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("événement de sécurité")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.user_id})"
