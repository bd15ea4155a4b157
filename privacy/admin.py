from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import LegalHold, RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(SimpleHistoryAdmin):
    list_display = ("departement", "category", "months_after_closure", "confirmed_by_dpo_on")
    list_filter = ("departement", "category")


@admin.register(LegalHold)
class LegalHoldAdmin(SimpleHistoryAdmin):
    list_display = ("case", "kind", "placed_at", "lifted_at")
    raw_id_fields = ("case", "placed_by", "lifted_by")
