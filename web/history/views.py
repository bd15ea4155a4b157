"""The case timeline page and the auditor's evidence pack (CSV, PDF)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.chain import verify_chain
from audit.models import Section, chain_key
from audit.reads import log_read
from permissions.policy import case_or_404, log_denial
from permissions.roles import Role
from permissions.visibility import Category, can_see_category

from . import evidence
from .forms import TimelineFilterForm
from .timeline import Viewer, build_timeline

SENSITIVE = (Category.HEALTH, Category.VIOLENCE, Category.NARRATIVE)
PAGE_SIZE = 50


def _case_in_scope(request, pk, section):
    # The case pages' selector: outside the user's scope a case does not exist for them (404, never
    # 403); it also brings the memberships reaching the case, which field visibility reads.
    return case_or_404(request, pk, section=section)


@login_required
def timeline(request, pk):
    case = _case_in_scope(request, pk, Section.HISTORY)
    viewer = Viewer.of(request.user)
    form = TimelineFilterForm(request.GET or None, kinds=viewer.kinds())
    events = []
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        events = build_timeline(
            request.user,
            case,
            kinds=data.get("kinds") or None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
    # Newest first, a page at a time; the filters stay in the pages' links.
    page = Paginator(events[::-1], PAGE_SIZE).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    # The history repeats what sensitive sections held: opening it is a read of those sections.
    if case.is_protected or any(can_see_category(viewer.roles, c) for c in SENSITIVE) or viewer.full:
        log_read(request.user, case, Section.HISTORY)
    chain_break = verify_chain(chain_key(case.pk)) if viewer.full else None
    return render(
        request,
        "audit/timeline.html",
        {
            "case": case,
            "form": form,
            "events": page.object_list,
            "page": page,
            "filters": filters.urlencode(),
            "viewer": viewer,
            "is_auditor": _is_auditor(request.user),
            "chain_break": chain_break,
            "page_title": _("Historique du dossier %(ref)s") % {"ref": case.reference},
        },
    )


def _is_auditor(user) -> bool:
    return Role.AUDITOR in Viewer.of(user).roles


def _evidence_pack(request, pk, build):
    """Serve the pack built by `build(user, case)`; a read is recorded only when it is served.

    The role check comes first: a denied request must not go through the case selector, which
    logs a read of a protected case, nor leave a row in the read log. The read is written in the
    same transaction as the pack is built (so the pack lists it): a pack that fails leaves none."""
    if not _is_auditor(request.user):
        log_denial(request, "evidence_pack", "case", pk)
        raise Http404
    case = _case_in_scope(request, pk, Section.EVIDENCE_PACK)
    with transaction.atomic():
        log_read(request.user, case, Section.EVIDENCE_PACK)
        return build(request.user, case)


@login_required
def export_csv(request, pk):
    return _evidence_pack(request, pk, evidence.csv_response)


@login_required
def export_pdf(request, pk):
    return _evidence_pack(request, pk, evidence.pdf_response)
