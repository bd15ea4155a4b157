from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.models import Section
from audit.reads import log_read

from . import export
from .access import subject_access_case_or_404
from .services import retention_status

CONTENT_TYPES = {"pdf": "application/pdf", "json": "application/json; charset=utf-8"}


@login_required
@require_GET
def subject_access(request, pk):
    """The page of a case's art. 15 export: what it contains, the two formats, the retention status."""
    case = subject_access_case_or_404(request, pk)
    return render(
        request,
        "privacy/subject_access.html",
        {
            "case": case,
            "status": retention_status(case),
            "holds": case.legal_holds.order_by("-placed_at"),
            "exports": case.subject_access_exports.select_related("requested_by").order_by("-created_at")[:20],
            "page_title": "Droit d'accès du ménage",
        },
    )


@login_required
@require_GET
def subject_access_download(request, pk, fmt):
    case = subject_access_case_or_404(request, pk)
    with transaction.atomic():
        pack = export.build(case, request.user)
        content = export.as_pdf(pack) if fmt == "pdf" else export.as_json(pack)
        export.store(case, request.user, fmt, content)
        log_read(request.user, case, Section.SUBJECT_ACCESS)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="droit-acces-{case.reference}.{fmt}"'
    return response
