"""Outbox and preferences.

A notification is a row of the outbox, written in the same transaction as the change that causes
it. In-app rows are delivered by that commit (the notification centre reads them); e-mail rows are
sent by a Celery task, at least once and recorded once (see notifications/outbox.py).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.history import HistoricalRecords  # simple-history without identical consecutive rows

# Attempts after which an e-mail that keeps failing stops being retried and is marked failed.
MAX_ATTEMPTS = 5


class Notification(models.Model):
    class Channel(models.TextChoices):
        IN_APP = "in_app", _("Dans l'application")
        EMAIL = "email", _("Courriel")

    class Status(models.TextChoices):
        PENDING = "pending", _("À envoyer")
        SENT = "sent", _("Envoyée")
        FAILED = "failed", _("Échec")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("destinataire")
    )
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    template = models.CharField(_("modèle"), max_length=60)
    context = models.JSONField(_("contenu"), default=dict, blank=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("dossier")
    )
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=200, unique=True)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # E-mail only: held for the recipient's daily digest instead of being sent at once.
    digest = models.BooleanField(_("dans le récapitulatif quotidien"), default=False)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_attempt_at = models.DateTimeField(_("dernière tentative"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    # The sweep re-queues a pending row once this moment has passed (the message was lost or failed).
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), db_index=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    # A "step waiting for you" notice whose step has since been done (by anyone): nothing left to do.
    done_at = models.DateTimeField(_("étape faite le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        indexes = [models.Index(fields=["recipient", "channel", "read_at"], name="notif_unread_idx")]

    def __str__(self):
        return f"{self.template} → {self.recipient_id} ({self.get_channel_display()})"


class DeliveryLog(models.Model):
    """One row per delivery, written in the transaction that marks the notification sent."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    idempotency_key = models.CharField(max_length=200, db_index=True)
    channel = models.CharField(max_length=10)
    delivered_at = models.DateTimeField(auto_now_add=True)
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("envoi")

    def __str__(self):
        return f"{self.idempotency_key} ({self.delivered_at:%d/%m/%Y %H:%M})"


class NotificationPreference(models.Model):
    class EmailMode(models.TextChoices):
        IMMEDIATE = "immediate", _("Un courriel à chaque notification")
        DIGEST = "digest", _("Un récapitulatif par jour")
        NONE = "none", _("Pas de courriel (seulement dans l'application)")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_pref")
    email_mode = models.CharField(_("courriels"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("préférence de notification")

    def __str__(self):
        return f"{self.user} : {self.get_email_mode_display()}"
