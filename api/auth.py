from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .models import ApiClient, hash_token
from .throttling import TokenFailureThrottle


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`. request.user is the client's service user, request.auth the client.

    Failed tokens are counted per address (TokenFailureThrottle): DRF checks its throttles only after
    authentication, so a wrong token would otherwise never be throttled. Past the limit: 429."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"bearer", b"token"):
            return None
        throttle = TokenFailureThrottle()
        if throttle.blocked(request):
            raise exceptions.Throttled(throttle.wait())
        try:
            client = self._client(header)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise
        return client.user, client

    def _client(self, header):
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("En-tête Authorization mal formé : « Bearer <jeton> » attendu."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Jeton invalide.")) from None
        client = (
            ApiClient.objects.select_related("user", "organisation")
            .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
            .first()
        )
        if client is None or not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("Jeton invalide ou révoqué."))
        return client

    def authenticate_header(self, request):
        return self.keyword
