from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import LetterTemplate


@admin.register(LetterTemplate)
class LetterTemplateAdmin(SimpleHistoryAdmin):
    """The letters' texts per département; the territory admins edit theirs at /documents/modeles/."""

    list_display = ("departement", "kind", "subject", "updated_at")
    list_filter = ("kind",)
    readonly_fields = ("updated_by",)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
