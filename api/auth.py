from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .models import ApiClient, hash_token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`. request.user is the client's service user, request.auth the client."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"bearer", b"token"):
            return None
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
        return client.user, client

    def authenticate_header(self, request):
        return self.keyword
