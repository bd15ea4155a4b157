"""The evidence pack: a case's whole history, for an auditor, as CSV and PDF.

Both carry the chain check of the case at export time and the hash of the chain's last entry, so
the pack can later be matched against the database (verify_audit_chain).
"""

import csv
import io
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit.chain import verify_chain
from audit.models import AuditChainHead, chain_key

from .timeline import build_timeline, who


def _pack(user, case):
    key = chain_key(case.pk)
    head = AuditChainHead.objects.filter(chain=key).first()
    broken = verify_chain(key)
    return {
        "events": build_timeline(user, case),
        "generated_at": timezone.localtime(),
        "generated_by": who(user),
        "chain": _("intacte") if broken is None else str(broken),
        "chain_head": f"{head.seq} / {head.hash}" if head else "—",
    }


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def _rows(pack):
    """One line per field change; one line for an event without changes."""
    for event in pack["events"]:
        base = [_when(event.at), str(event.kind_label), event.title, event.actor, event.reason]
        if not event.changes:
            yield [*base, "", "", ""]
        for change in event.changes:
            yield [*base, change.label, change.before, change.after]


HEADER = ["Date", "Type", "Événement", "Auteur", "Motif", "Champ", "Avant", "Après"]


def _filename(case, ext):
    return f"historique-{case.reference}-{timezone.localdate():%Y%m%d}.{ext}"


def csv_response(user, case) -> HttpResponse:
    pack = _pack(user, case)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(case, "csv")}"'
    response.write("\ufeff")  # lets spreadsheet software read the accents correctly
    writer = csv.writer(response, delimiter=";")
    writer.writerow([_("Dossier"), case.reference])
    writer.writerow([_("Exporté le"), _when(pack["generated_at"]), _("par"), pack["generated_by"]])
    writer.writerow([_("Chaîne d'audit"), pack["chain"], _("dernière entrée"), pack["chain_head"]])
    writer.writerow([])
    writer.writerow(HEADER)
    writer.writerows(_rows(pack))
    return response


def pdf_response(user, case) -> HttpResponse:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pack = _pack(user, case)
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)

    def p(text):
        return Paragraph(escape(str(text)), small)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=1.2 * cm,
        rightMargin=1.2 * cm,
        topMargin=1.2 * cm,
        bottomMargin=1.2 * cm,
        title=f"Historique {case.reference}",
    )
    story = [
        Paragraph(escape(_("Historique du dossier %(ref)s") % {"ref": case.reference}), styles["Title"]),
        p(f"{_('Exporté le')} {_when(pack['generated_at'])} {_('par')} {pack['generated_by']}"),
        p(f"{_('Chaîne d’audit')} : {pack['chain']} — {_('dernière entrée')} : {pack['chain_head']}"),
        Spacer(1, 0.4 * cm),
    ]
    rows = [[p(h) for h in HEADER]] + [[p(cell) for cell in row] for row in _rows(pack)]
    widths = [2.6, 2.2, 5.2, 2.8, 3.4, 3.4, 3.6, 3.6]
    table = Table(rows, colWidths=[w * cm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e3fd")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    doc.build(story)
    response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(case, "pdf")}"'
    return response
