"""Issuing and revoking API clients (admin command or admin site; never through the API itself)."""

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import choices
from cases.audit import acting_as
from permissions.models import Membership
from permissions.roles import Role

from .models import ApiClient, hash_token

TOKEN_PREFIX = "ppg_"


def api_client_create(*, actor, organisation, name: str) -> tuple[ApiClient, str]:
    """Create the organisation's client and its service user; returns the raw token (shown once)."""
    if not actor.is_superuser:
        raise PermissionDenied
    if organisation.kind != choices.OrganisationKind.LANDLORD:
        raise ValidationError({"organisation": _("Seul un bailleur social peut recevoir un accès API.")})
    with transaction.atomic(), acting_as(actor, "Création d'un client API"):
        if ApiClient.objects.filter(organisation=organisation, revoked_at__isnull=True).exists():
            raise ValidationError(
                {"organisation": _("Cet organisme a déjà un client API actif : révoquez-le avant d'en créer un autre.")}
            )
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        user = get_user_model().objects.create(
            username=f"api-{organisation.pk}-{secrets.token_hex(4)}", first_name=name[:150], is_active=True
        )
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, organisation=organisation, role=Role.LANDLORD_AGENT)
        client = ApiClient.objects.create(
            organisation=organisation,
            user=user,
            name=name,
            token_prefix=raw[:12],
            token_hash=hash_token(raw),
            created_by=actor,
        )
    return client, raw


def api_client_revoke(*, actor, client: ApiClient) -> ApiClient:
    """The token stops working at once; the service user loses its membership and its grants."""
    if not actor.is_superuser:
        raise PermissionDenied
    with transaction.atomic(), acting_as(actor, "Révocation d'un client API"):
        client = ApiClient.objects.select_for_update().get(pk=client.pk)
        if client.revoked_at:
            return client
        client.revoked_at = timezone.now()
        client.save()
        for membership in Membership.objects.filter(user=client.user, is_active=True):
            membership.is_active = False
            membership.save()
        client.user.is_active = False
        client.user.save()
    return client
