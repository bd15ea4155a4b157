"""Authentication backends: the local password (switchable off) and the State's single sign-on.

Single sign-on (OpenID Connect, mozilla-django-oidc; ProConnect in production) only *identifies* a
professional: the verified e-mail address of the provider's answer is matched, case-insensitively,
with exactly one active local account. It never creates an account and never grants anything: rights
come from the memberships that a territory admin gave that account. No match, several matches, an
inactive account or an unverified address: refused, logged (without the address) and recorded.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .events import record
from .models import SecurityEvent


def local_login_enabled() -> bool:
    return getattr(settings, "PPGDID_LOCAL_LOGIN", True)


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


class LocalPasswordBackend(ModelBackend):
    """Django's password check, only while PPGDID_LOCAL_LOGIN is on (also for the admin's login)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not local_login_enabled():
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _fingerprint(value: str) -> str:
    """A short hash that lets an operator correlate refusals without writing the address down."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:12]


class ProfessionalOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        if not sso_enabled():
            return None
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims):
        email = (claims.get("email") or "").strip()
        if not email or "@" not in email:
            record(SecurityEvent.Kind.SSO_REFUSED, detail="no e-mail claim")
            return False
        # ProConnect only releases verified addresses; a provider that says otherwise is refused.
        if claims.get("email_verified") is False:
            record(SecurityEvent.Kind.SSO_REFUSED, detail=f"unverified e-mail {_fingerprint(email)}")
            return False
        return super().verify_claims(claims)

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        users = get_user_model().objects.filter(email__iexact=email, is_active=True)
        found = list(users[:2])
        if len(found) != 1:
            reason = "no active account" if not found else "several accounts"
            record(SecurityEvent.Kind.SSO_REFUSED, detail=f"{reason} {_fingerprint(email)}")
            return get_user_model().objects.none()
        return users

    def create_user(self, claims):  # never: OIDC_CREATE_USER is False, and this is the backstop
        return None

    def update_user(self, user, claims):
        return user  # the local account (name, e-mail) is the territory admin's, not the provider's

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None:
            record(SecurityEvent.Kind.SSO_LOGIN, user=user)
        return user
