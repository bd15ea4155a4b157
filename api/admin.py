from django.contrib import admin

from .models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Read-only view; create and revoke with `manage.py api_client` (the token is shown only once)."""

    list_display = ["name", "organisation", "token_prefix", "created_at", "revoked_at"]
    readonly_fields = ["organisation", "user", "name", "token_prefix", "created_by", "created_at", "revoked_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        return False
