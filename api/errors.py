"""Every bad input gets a JSON answer with a French message, never a 500:
{"detail": "<what went wrong>", "errors": {"<field>": ["<message>", …]}}.

DRF's own messages (parse errors, methods, media types, throttling, authentication…) are replaced by
French ones here; our own French details are kept."""

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler
from viewflow.workflow.exceptions import FlowLockFailed

from workflows.services import StepConflict

INVALID = "Données invalides : corrigez les champs indiqués."
NOT_AUTHENTICATED = "Jeton d'authentification requis : celui du client API de l'organisme (Authorization: Bearer …)."


def _parse_error(exc) -> str:
    # DRF words it "JSON parse error - Expecting value: line 1 column 14 (char 13)": keep the position only.
    where = re.search(r"line (\d+) column (\d+)", str(exc.detail))
    if where:
        return _("Corps de la requête illisible : JSON invalide (ligne %(line)s, colonne %(column)s).") % {
            "line": where[1],
            "column": where[2],
        }
    return _("Corps de la requête illisible : JSON invalide.")


def _throttled(exc) -> str:
    if exc.wait is None:
        return _("Trop de requêtes : réessayez plus tard.")
    seconds = max(1, int(exc.wait + 0.999))
    return ngettext(
        "Trop de requêtes : réessayez dans %(n)s seconde.", "Trop de requêtes : réessayez dans %(n)s secondes.", seconds
    ) % {"n": seconds}


def _is_default(exc) -> bool:
    return str(exc.detail) == str(exc.default_detail)


def _french_detail(exc, context):
    """The French detail for DRF's exception `exc`, or None to keep its own (already French) detail."""
    if isinstance(exc, exceptions.ParseError):
        return _parse_error(exc)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _("Type de contenu non pris en charge : envoyez du JSON (Content-Type: application/json).")
    if isinstance(exc, exceptions.MethodNotAllowed):
        request = context.get("request")
        method = getattr(request, "method", "")
        return _("Méthode %(method)s non autorisée à cette adresse.") % {"method": method}
    if isinstance(exc, exceptions.NotAcceptable):
        return _("Format de réponse indisponible : seul application/json est servi.")
    if isinstance(exc, exceptions.Throttled):
        return _throttled(exc)
    if isinstance(exc, exceptions.NotAuthenticated):
        return _(NOT_AUTHENTICATED)
    if isinstance(exc, exceptions.AuthenticationFailed) and _is_default(exc):
        return _("Jeton invalide.")
    if isinstance(exc, exceptions.PermissionDenied) and _is_default(exc):
        return _("Vous n'avez pas le droit de faire cette action.")
    if isinstance(exc, exceptions.NotFound) and _is_default(exc):
        return _("Introuvable.")
    return None


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        errors = {("non_field_errors" if key == "__all__" else key): value for key, value in errors.items()}
        return Response({"detail": _(INVALID), "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StepConflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, FlowLockFailed):
        return Response(
            {"detail": _("Le dossier est en cours de modification par ailleurs : réessayez dans un instant.")},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Introuvable."))
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(_("Vous n'avez pas le droit de faire cette action sur ce dossier."))
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _(INVALID), "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        detail = _french_detail(exc, context)
        if detail is not None:
            response.data = {"detail": detail}
    return response
