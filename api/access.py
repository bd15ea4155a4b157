from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from .models import ApiClient


class IsApiClient(BasePermission):
    """Only an active landlord API client; its scope is then the case policy's, as in the UI."""

    message = _("Authentification requise : jeton du client API de l'organisme (Authorization: Bearer …).")

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiClient) and request.auth.is_active
