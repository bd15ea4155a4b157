"""API clients of landlord organisations, and the stored responses that make POSTs idempotent."""

import hashlib

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.history import HistoricalRecords  # simple-history without identical consecutive rows


def hash_token(raw: str) -> str:
    # Tokens are 256-bit random strings: a plain SHA-256 is enough (no dictionary to guard against).
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiClient(models.Model):
    """One landlord organisation's information system. It acts through a service user holding a
    landlord-agent membership of the organisation, so the API has exactly the UI's scope and grants."""

    organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="api_clients", verbose_name=_("organisation")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_client",
        verbose_name=_("compte de service"),
    )
    name = models.CharField(_("nom du système"), max_length=120)
    token_prefix = models.CharField(_("début du jeton"), max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        verbose_name = _("client API")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(revoked_at__isnull=True), name="one_active_api_client_per_org"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.organisation})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first successful response to a POST with a given Idempotency-Key, replayed on retries."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="one_response_per_idempotency_key")]

    def __str__(self):
        return f"{self.client_id}:{self.key}"
