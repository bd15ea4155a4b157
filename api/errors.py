"""Every bad input gets a JSON answer with a French message, never a 500:
{"detail": "<what went wrong>", "errors": {"<field>": ["<message>", …]}}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler
from viewflow.workflow.exceptions import FlowLockFailed

from workflows.services import StepConflict

INVALID = "Données invalides : corrigez les champs indiqués."


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
    if response is not None and isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _(INVALID), "errors": errors}
    return response
