from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .territory import DepartementSettings


@admin.register(DepartementSettings)
class DepartementSettingsAdmin(SimpleHistoryAdmin):
    """What a département sets: the household's reply days (at least 10, R441-10 CCH), the préfet's
    DALO months when they differ from the R441-16-1 list (3 or 6 only), the affordability thresholds."""

    list_display = ("code", "offer_reply_days", "dalo_offer_months", "max_effort_rate", "min_daily_rest_per_uc")
