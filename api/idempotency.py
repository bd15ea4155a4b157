"""Idempotency-Key on every POST: a retried request returns the stored response and does nothing twice.

The key row is inserted in the same transaction as the write: a concurrent retry waits on the unique
index, then replays the committed response. Only successful responses are stored; a refused request
changed nothing, so running it again is harmless.
"""

import hashlib
import json
import re
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response

from .models import IdempotencyRecord

KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{8,100}$")

KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=KEY_PATTERN.pattern,
    description="Identifiant unique de la requête (8 à 100 caractères : lettres, chiffres, . _ : -). "
    "Renvoyer la même requête avec la même clé renvoie la réponse d'origine sans rien refaire.",
)


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"{upload.name} sha256:{digest.hexdigest()}"


def _plain(data):
    """A form or multipart body (QueryDict) as lists of values, each file by its name and content."""
    if not hasattr(data, "lists"):
        return data  # JSON: as parsed
    return {key: [_file_digest(v) if hasattr(v, "chunks") else v for v in values] for key, values in data.lists()}


def _digest(request) -> str:
    body = json.dumps(_plain(request.data), sort_keys=True, cls=DjangoJSONEncoder, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        return Response(
            {"detail": _("Cette clé d'idempotence a déjà servi pour une autre requête : utilisez une nouvelle clé.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response(record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def idempotent(handler):
    @wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "")
        if not KEY_PATTERN.match(key):
            return Response(
                {
                    "detail": _(
                        "En-tête Idempotency-Key obligatoire : 8 à 100 caractères (lettres, chiffres, . _ : -), "
                        "une valeur nouvelle pour chaque opération."
                    ),
                    "errors": {"Idempotency-Key": [_("Clé absente ou mal formée.")]},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        client = request.auth
        digest = _digest(request)
        existing = IdempotencyRecord.objects.filter(client=client, key=key).first()
        if existing is not None:
            return _replay(existing, digest)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(client=client, key=key, request_hash=digest)
            except IntegrityError:
                return _replay(IdempotencyRecord.objects.get(client=client, key=key), digest)
            response = handler(self, request, *args, **kwargs)
            if response.status_code >= 300:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
            record.save()
        return response

    return wrapper
