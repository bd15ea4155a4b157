"""The application import through the partner API (/api/v1/imports/), for landlords' and partners'
systems: the same import as the upload page (exchanges.tasks.run_import, a Celery job), sent as a file
(CSV or XLSX, multipart) or as JSON, with an Idempotency-Key; the job's status at its own URL.

Who may import: the API client whose service user holds the upload page's role (exchanges.access:
territory administrator, handed out by a system administrator only); deny by default, every denial
logged. A job of another organisation: 404. Mounted under /api/v1/imports/ by config/urls.py, so the
API's schema documents it and the schemathesis run covers it."""

import csv
import io

from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from api.access import IsApiClient
from api.idempotency import KEY_PARAMETER, idempotent

from . import access, mappings, readers
from .applications import REQUIRED
from .models import ImportJob, JobStatus
from .tasks import progress_key, run_import

MAX_FILE = 50 * 2**20  # one request; larger exports go through the command
MAX_ITEMS = 10_000  # applications per JSON request
JSON_FILE_NAME = "applications-api.csv"  # a JSON request is stored as the CSV it stands for


def _mapping_choices() -> list[str]:
    found = mappings.available()
    return sorted({m.key for m in found} | {m.name for m in found})


def _mapping(spec: str) -> mappings.Mapping:
    try:
        return mappings.get(spec)
    except Exception as error:  # noqa: BLE001  (Django's ValidationError, French message)
        raise ValidationError({"mapping": [getattr(error, "messages", [str(error)])[0]]}) from None


# --- input ----------------------------------------------------------------------------------------


class _Options(serializers.Serializer):
    mapping = serializers.ChoiceField(
        choices=_mapping_choices(),
        default=mappings.DEFAULT,
        help_text="Modèle de colonnes : « nom » (sa dernière version) ou « nom@version ».",
        error_messages={"invalid_choice": gettext_lazy("Modèle de colonnes inconnu : « {input} ».")},
    )
    skip_invalid = serializers.BooleanField(
        default=False, help_text="Importer les lignes valides même si d'autres sont rejetées (sinon : rien)."
    )
    dry_run = serializers.BooleanField(default=False, help_text="Simulation : tout vérifier sans rien enregistrer.")


@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    pass


class FileImportIn(_Options):
    file = UploadField(
        help_text="Export du registre ou du fichier partagé : CSV (séparateur du modèle) ou XLSX, 50 Mo au plus."
    )

    def validate_file(self, upload):
        if not (upload.name or "").lower().endswith((".csv", ".xlsx")):
            raise serializers.ValidationError(_("Format non pris en charge : fichier .csv ou .xlsx attendu."))
        if upload.size > MAX_FILE:
            raise serializers.ValidationError(
                _("Fichier trop volumineux (50 Mo au plus) : utilisez la commande d'import.")
            )
        return upload


class JsonImportIn(_Options):
    applications = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True, allow_null=True, max_length=500)),
        min_length=1,
        max_length=MAX_ITEMS,
        help_text="Une demande par objet, dont les clés sont les en-têtes de colonnes du modèle choisi "
        "(registre@1 : « NUD », « Nom », « Prénom », « Date de naissance »…) et les valeurs, le texte des cellules.",
    )


class JobCreated(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    status_url = serializers.URLField()
    mapping = serializers.CharField()
    dry_run = serializers.BooleanField()
    skip_invalid = serializers.BooleanField()
    total = serializers.IntegerField(allow_null=True, help_text="Lignes de données annoncées (estimation).")


class Progress(serializers.Serializer):
    lines = serializers.IntegerField(help_text="Lignes traitées.")
    total = serializers.IntegerField(allow_null=True, help_text="Lignes du fichier (estimation).")


COUNTS = ("lines", "created", "updated", "unchanged", "conflicts", "rejected")


class Counts(serializers.Serializer):
    lines = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    conflicts = serializers.IntegerField()
    rejected = serializers.IntegerField()


class Message(serializers.Serializer):
    line = serializers.IntegerField(help_text="Ligne du fichier (1 : l'en-tête).")
    item = serializers.IntegerField(allow_null=True, help_text="Envoi JSON : rang de la demande (à partir de 1).")
    column = serializers.CharField()
    kind = serializers.CharField(help_text="« rejet » (ligne refusée) ou « conflit » (valeur modifiée depuis gardée).")
    message = serializers.CharField()


class JobOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=JobStatus.choices, help_text="« failed » aussi quand le fichier n'a pas pu être lu (voir error)."
    )
    mapping = serializers.CharField()
    dry_run = serializers.BooleanField()
    skip_invalid = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    progress = Progress()
    counts = Counts(allow_null=True)
    applied = serializers.BooleanField(help_text="Vrai si les lignes valides ont été enregistrées.")
    verdict = serializers.CharField()
    error = serializers.CharField(help_text="Pourquoi le fichier n'a pas pu être importé (sinon vide).")
    messages = Message(many=True, help_text="Les 200 premiers rejets et conflits ; le rapport les donne tous.")
    report_url = serializers.URLField()


# --- access ---------------------------------------------------------------------------------------


class IsImporter(BasePermission):
    """The upload page's rule (exchanges.access), for the client's service user. Logged when refused."""

    message = gettext_lazy(
        "Ce client API n'est pas habilité aux imports : le rôle d'administrateur de territoire est requis."
    )

    def has_permission(self, request, view):
        try:
            access.require_importer(request)  # logs the denial
        except DjangoPermissionDenied:
            return False
        return True


def _job(request, pk) -> ImportJob:
    try:
        return access.job_or_404(request, pk)  # another organisation's job: logged
    except Http404:
        raise NotFound(_("Import introuvable.")) from None


class Base(APIView):
    permission_classes = [IsApiClient, IsImporter]


# --- creating a job ------------------------------------------------------------------------------


def _check_file(content: bytes, name: str, mapping: mappings.Mapping) -> None:
    """Refuse at once what the job could not read: an empty or unreadable file, missing columns."""
    rows = readers.rows(io.BytesIO(content), name, mapping.delimiter)
    try:
        header = set(next(rows))
    except readers.FileFormatError as error:
        raise ValidationError({"file": [error.messages[0]]}) from None
    except StopIteration:
        raise ValidationError({"file": [_("Le fichier est vide.")]}) from None
    finally:
        rows.close()
    missing = [mapping.columns.get(f, f) for f in REQUIRED if mapping.columns.get(f) not in header]
    if missing:
        raise ValidationError(
            {
                "file": [
                    _("Colonne(s) absente(s) du fichier pour le modèle %(mapping)s : %(columns)s.")
                    % {"mapping": mapping.key, "columns": ", ".join(missing)}
                ]
            }
        )


def _csv_of(applications: list[dict], mapping: mappings.Mapping) -> bytes:
    """The JSON applications as the CSV file they stand for (header: the mapping's columns)."""
    header = list(mapping.columns.values())
    for member in mapping.member_columns():
        header += list(member.values())
    known = set(header)
    errors = {}
    for number, item in enumerate(applications, start=1):
        unknown = sorted(k for k in item if k not in known)
        if unknown:
            errors[str(number)] = [
                _("Colonne(s) inconnue(s) pour le modèle %(mapping)s : %(columns)s.")
                % {"mapping": mapping.key, "columns": ", ".join(k[:60] for k in unknown[:5])}
            ]
        elif any(value and ("\n" in value or "\r" in value) for value in item.values()):
            errors[str(number)] = [_("Retour à la ligne interdit dans une valeur.")]
    if errors:
        raise ValidationError({"applications": errors})
    text = io.StringIO()
    writer = csv.writer(text, delimiter=mapping.delimiter, lineterminator="\n")
    writer.writerow(header)
    for item in applications:
        writer.writerow([item.get(h) or "" for h in header])
    return text.getvalue().encode("utf-8")


def status_url(request, job: ImportJob) -> str:
    return request.build_absolute_uri(reverse("imports_api:import-detail", args=[job.pk]))


class ApplicationImport(Base):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="imports_applications_create",
        request={"multipart/form-data": FileImportIn, "application/json": JsonImportIn},
        responses={
            202: OpenApiResponse(JobCreated, description="Import accepté ; en-tête Location : l'adresse de son état."),
            422: OpenApiResponse(description="Clé d'idempotence déjà utilisée pour une autre requête."),
        },
        parameters=[KEY_PARAMETER],
    )
    def post(self, request):
        """Importer des demandes (création ou mise à jour des ménages par NUD), de façon asynchrone.

        Un fichier CSV ou XLSX (multipart/form-data, champ `file`) ou les demandes en JSON (`applications`).
        Sans `skip_invalid`, une seule ligne rejetée et rien n'est importé. Suivre l'état à l'adresse donnée
        par `status_url` (et l'en-tête Location). La même requête renvoyée avec la même Idempotency-Key
        renvoie le même import sans rien refaire."""
        response = self._create(request)
        if response.status_code == status.HTTP_202_ACCEPTED:
            response["Location"] = response.data["status_url"]
        return response

    @idempotent
    def _create(self, request):
        if request.content_type.startswith("multipart/"):
            options = FileImportIn(data=request.data)
            options.is_valid(raise_exception=True)
            values = options.validated_data
            mapping = _mapping(values["mapping"])
            upload = values["file"]
            upload.seek(0)
            content, name = upload.read(), upload.name[-200:]
            _check_file(content, name, mapping)
        else:
            options = JsonImportIn(data=request.data)
            options.is_valid(raise_exception=True)
            values = options.validated_data
            mapping = _mapping(values["mapping"])
            content, name = _csv_of(values["applications"], mapping), JSON_FILE_NAME
        job = ImportJob.objects.create(
            created_by=request.user,
            organisation_id=access.organisation_id(request.user),
            mapping=mapping.key,
            file_name=name,
            content=content,
            summary={"total": readers.count_lines(io.BytesIO(content), name)},
            dry_run=values["dry_run"],
            skip_invalid=values["skip_invalid"],
            idempotency_key=request.headers["Idempotency-Key"],
        )
        # The job starts once the request's transaction (job and idempotency record) is committed;
        # robust: a crash of an eager run marks the job failed without failing this request.
        transaction.on_commit(lambda: run_import.delay(job.pk), robust=True)
        data = {
            "id": job.pk,
            "status": job.status,
            "status_url": status_url(request, job),
            "mapping": job.mapping,
            "dry_run": job.dry_run,
            "skip_invalid": job.skip_invalid,
            "total": job.summary["total"],
        }
        return Response(data, status=status.HTTP_202_ACCEPTED)


# --- a job's state and report ---------------------------------------------------------------------


def job_state(request, job: ImportJob) -> dict:
    summary = job.summary or {}
    running = job.status in (JobStatus.PENDING, JobStatus.RUNNING)
    error = summary.get("file_error") or ""
    from_json = job.file_name == JSON_FILE_NAME
    return {
        "id": job.pk,
        "status": JobStatus.FAILED if error else job.status,
        "mapping": job.mapping,
        "dry_run": job.dry_run,
        "skip_invalid": job.skip_invalid,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "progress": {
            "lines": (cache.get(progress_key(job.pk)) or 0) if running else summary.get("lines", 0),
            "total": summary.get("total"),
        },
        "counts": None if running else {k: summary.get(k, 0) for k in COUNTS},
        "applied": bool(summary.get("applied")),
        "verdict": summary.get("verdict", ""),
        "error": error,
        "messages": [
            {
                "line": line,
                "item": (line - 1) if from_json and isinstance(line, int) else None,
                "column": column,
                "kind": kind,
                "message": message,
            }
            for line, column, kind, message in summary.get("messages", [])
        ],
        "report_url": request.build_absolute_uri(reverse("imports_api:import-report", args=[job.pk])),
    }


class ImportDetail(Base):
    @extend_schema(responses=JobOut)
    def get(self, request, pk):
        """État d'un import de votre organisme : avancement, décompte, rejets (ligne, colonne, message)."""
        return Response(job_state(request, _job(request, pk)))


class ImportReport(Base):
    def perform_content_negotiation(self, request, force=False):
        # The report is CSV whatever the Accept header; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk):
        """Rapport complet des rejets et conflits d'un import (CSV, séparateur « ; »)."""
        job = _job(request, pk)
        response = HttpResponse(
            "\ufeff" + (job.report or "ligne;colonne;type;message\r\n"), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rapport.csv"'
        return response


app_name = "imports_api"

urlpatterns = [
    path("applications/", ApplicationImport.as_view(), name="import-applications"),
    path("<int:pk>/", ImportDetail.as_view(), name="import-detail"),
    path("<int:pk>/report/", ImportReport.as_view(), name="import-report"),
]
