"""Django admin for the access model, with history (who changed what, when, and why)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cases.models import Organisation

from .models import BreakGlassAccess, CaseShare, Membership


class ReasonAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Motif de la modification"), max_length=100, help_text=_("Conservé dans l'historique.")
    )


class ReasonAdmin(SimpleHistoryAdmin):
    """Every change made in the admin states its reason, kept on the history row."""

    form = ReasonAdminForm

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data["change_reason"]
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        obj._change_reason = "Suppression depuis l'administration"
        super().delete_model(request, obj)


@admin.register(Membership)
class MembershipAdmin(ReasonAdmin):
    list_display = ("user", "organisation", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__last_name", "organisation__name")
    filter_horizontal = ("communes",)


class OrganisationAdmin(ReasonAdmin):
    list_display = ("name", "kind", "siren")
    list_filter = ("kind",)
    search_fields = ("name", "siren")
    filter_horizontal = ("communes",)


def register_organisation_admin() -> None:
    """Called from PermissionsConfig.ready(), after every admin module: yields to a cases admin."""
    if not admin.site.is_registered(Organisation):
        admin.site.register(Organisation, OrganisationAdmin)


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """Access records are evidence: readable in the admin, changed only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CaseShare)
class CaseShareAdmin(ReadOnlyHistoryAdmin):
    list_display = ("case", "category", "organisation", "ends_on", "revoked_at")
    list_filter = ("category",)


@admin.register(BreakGlassAccess)
class BreakGlassAccessAdmin(ReadOnlyHistoryAdmin):
    list_display = ("case", "user", "opened_at", "expires_at")
