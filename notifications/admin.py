from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from cases.models import ClockPause
from cases.territory import StepTimeLimits

from .models import DeliveryLog, Notification, NotificationPreference
from .outbox import enqueue


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox. Filter on "Échec" to see the e-mails that stopped after 5 attempts."""

    list_display = ("id", "created_at", "recipient", "channel", "template", "status", "attempts", "sent_at", "digest")
    list_filter = ("status", "channel", "template", "digest", "created_at")
    search_fields = ("idempotency_key", "recipient__username", "recipient__email")
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Renvoyer les notifications sélectionnées en échec (remet les tentatives à zéro)")
    def retry(self, request, queryset):
        count = 0
        for row in queryset.filter(status=Notification.Status.FAILED, channel=Notification.Channel.EMAIL):
            row.status = Notification.Status.PENDING
            row.attempts = 0
            row.next_attempt_at = timezone.now()
            row.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
            if not row.digest:
                transaction.on_commit(lambda pk=row.pk: enqueue(pk))
            count += 1
        self.message_user(request, f"{count} notification(s) remise(s) en file d'envoi.", messages.SUCCESS)


@admin.register(DeliveryLog)
class DeliveryLogAdmin(admin.ModelAdmin):
    list_display = ("delivered_at", "idempotency_key", "channel", "worker")
    list_filter = ("channel",)
    search_fields = ("idempotency_key",)
    readonly_fields = ("notification", "idempotency_key", "channel", "delivered_at", "worker")

    def has_add_permission(self, request):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(SimpleHistoryAdmin):
    list_display = ("user", "email_mode")
    list_filter = ("email_mode",)


@admin.register(StepTimeLimits)
class StepTimeLimitsAdmin(SimpleHistoryAdmin):
    list_display = (
        "departement",
        "diagnostic_days",
        "committee_days",
        "proposal_days",
        "caleol_days",
    )


@admin.register(ClockPause)
class ClockPauseAdmin(SimpleHistoryAdmin):
    """Read-only here: pauses go through notifications.services (audited, rights checked)."""

    list_display = ("case", "reason", "started_at", "ended_at", "started_by", "ended_by")
    list_filter = ("reason",)
    readonly_fields = ("case", "reason", "comment", "started_at", "ended_at", "started_by", "ended_by")

    def has_add_permission(self, request):
        return False
