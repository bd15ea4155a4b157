"""Login page (local password and/or single sign-on) and the second-factor pages."""

import logging
from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .backends import local_login_enabled, sso_enabled
from .events import record
from .forms import CodeForm
from .models import SecurityEvent

log = logging.getLogger("ppgdid.accounts")
RECOVERY_CODES = 10


class LoginView(auth_views.LoginView):
    """Django's login, plus the single sign-on button; the password form goes when PPGDID_LOCAL_LOGIN is off."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {
            "local_login": local_login_enabled(),
            "sso_enabled": sso_enabled(),
            "sso_refused": self.request.GET.get("sso") == "refuse",
        }

    def post(self, request, *args, **kwargs):
        if not local_login_enabled():
            log.warning("local login refused: disabled by setting")
            messages.error(request, "La connexion par mot de passe est désactivée : utilisez la connexion unique.")
            return redirect("login")
        return super().post(request, *args, **kwargs)


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/"
    return target


def _new_recovery_codes(user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, name="Codes de secours")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@login_required
def enrol(request):
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"{_verify_url()}?next={_next(request)}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Application d'authentification", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_is_allowed()[0] and device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = _new_recovery_codes(request.user)
                record(SecurityEvent.Kind.OTP_ENROLLED, user=request.user, detail="totp")
            otp_login(request, device)
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request), "first": True}
            )
        record(SecurityEvent.Kind.OTP_FAILED, user=request.user, detail="enrolment")
        form.add_error("code", "Code incorrect ou expiré : saisissez le code affiché maintenant par l'application.")
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": qr.svg_inline(scale=4, title="Code QR à scanner avec votre application"),
            "secret": _b32(device),
            "next": _next(request),
        },
        status=400 if request.method == "POST" else 200,
    )


def _b32(device) -> str:
    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _verify_url() -> str:
    return reverse("accounts:otp_verify")


@login_required
def verify(request):
    if request.user.is_verified():
        return HttpResponseRedirect(_next(request))
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"{reverse_enrol()}?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                record(SecurityEvent.Kind.RECOVERY_USED, user=request.user, detail=f"{left} left")
                messages.warning(
                    request, f"Code de secours utilisé : il vous en reste {left}. Renouvelez-les depuis votre compte."
                )
            else:
                record(SecurityEvent.Kind.OTP_PASSED, user=request.user, detail="totp")
            return HttpResponseRedirect(_next(request))
        record(SecurityEvent.Kind.OTP_FAILED, user=request.user, detail="check")
        form.add_error("code", "Code incorrect, expiré ou trop d'essais : attendez le code suivant et réessayez.")
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "next": _next(request)},
        status=400 if request.method == "POST" else 200,
    )


def reverse_enrol() -> str:
    return reverse("accounts:otp_enrol")


@login_required
@require_POST
def renew_recovery_codes(request):
    if not request.user.is_verified():
        return redirect(f"{_verify_url()}?next={request.path}")
    with transaction.atomic():
        codes = _new_recovery_codes(request.user)
        record(SecurityEvent.Kind.RECOVERY_RENEWED, user=request.user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": "/", "first": False})
