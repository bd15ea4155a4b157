"""Who must pass a second factor (TOTP, django-otp), and the middleware that holds them to it.

Required for the roles that see or change the most: territory admins, auditors (the DPO's role),
supervisors, system admins, and any staff account (the Django admin). Until such a user has checked
a code in this session, every page but the enrolment/check pages and logout leads to them: to the
enrolment the first time (no confirmed device), to the check afterwards.
"""

import logging

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from permissions.models import Membership
from permissions.roles import Role

log = logging.getLogger("ppgdid.accounts")

ROLES_REQUIRING_SECOND_FACTOR = (Role.TERRITORY_ADMIN, Role.AUDITOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN)
# Paths any signed-in user may reach before the check (besides the check itself and logout).
OPEN_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics", "/api/", "/oidc/", "/i18n/")


def second_factor_required(user) -> bool:
    if not settings.PPGDID_SECOND_FACTOR or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(user=user, is_active=True, role__in=ROLES_REQUIRING_SECOND_FACTOR).exists()


class SecondFactorMiddleware:
    """After django_otp.middleware.OTPMiddleware (which sets `request.user.is_verified`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not self._open(request.path):
            if not user.is_verified() and second_factor_required(user):
                target = "accounts:otp_verify" if user_has_device(user) else "accounts:otp_enrol"
                log.info("second factor required user_id=%s path_kind=%s", user.pk, request.path.split("/")[1])
                return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        if path.startswith(OPEN_PREFIXES):
            return True
        return path.startswith(reverse("accounts:otp_root")) or path == reverse("logout")
