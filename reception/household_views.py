"""The household's own view (/mon-dossier/): no professional account. Sign-in with the file reference
and the personal access code, then a one-time code (reception.household). Another household's file,
or any file without a signed-in access to it, is a 404 (logged)."""

from axes.helpers import get_client_ip_address  # the login protection's rule (PPGDID_PROXY_COUNT)
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from permissions.policy import log_denial

from . import household
from .forms import OneTimeCodeForm, SignInForm
from .mystatus import status_for

TOO_MANY = _("Trop de tentatives. Par sécurité, réessayez dans 15 minutes.")


def _too_many(request, template, form):
    form.add_error(None, TOO_MANY)
    return render(request, template, {"form": form, "household_page": True}, status=429)


@require_http_methods(["GET", "POST"])
def sign_in(request):
    item = household.signed_in_access(request)
    if item is not None and request.method == "GET":
        return redirect("mon_dossier:status", reference=item.case.reference)
    form = SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            household.start(
                request, form.cleaned_data["reference"], form.cleaned_data["code"], get_client_ip_address(request)
            )
        except household.TooManyAttempts:
            return _too_many(request, "reception/household_signin.html", form)
        return redirect("mon_dossier:one_time_code")
    return render(request, "reception/household_signin.html", {"form": form, "household_page": True})


@require_http_methods(["GET", "POST"])
def one_time_code(request):
    if household.PENDING_KEY not in request.session:
        return redirect("mon_dossier:sign_in")
    form = OneTimeCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        item = household.verify(request, form.cleaned_data["code"])
        if item is not None:
            return redirect("mon_dossier:status", reference=item.case.reference)
        form.add_error(
            "code",
            _(
                "Ce code ne permet pas d'ouvrir un dossier. Vérifiez le code reçu, ou recommencez depuis le début "
                "si votre numéro de dossier ou votre code d'accès était peut-être mal saisi."
            ),
        )
    return render(request, "reception/household_code.html", {"form": form, "household_page": True})


@require_safe
def status(request, reference):
    item = household.signed_in_access(request)
    if item is None or item.case.reference != reference:
        log_denial(request, "household_view", "case", household.case_pk_from_reference(reference) or "-")
        raise Http404
    household.record_read(item)
    return render(
        request,
        "reception/household_status.html",
        {"item": item, "case": item.case, "status": status_for(item), "household_page": True},
    )


@require_POST
def sign_out(request):
    household.sign_out(request)
    messages.success(request, _("Vous êtes déconnecté. Pensez à fermer cet onglet sur un ordinateur partagé."))
    return redirect("mon_dossier:sign_in")
