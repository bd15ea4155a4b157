"""Exports of the steering tables (CSV, XLSX) and the yearly report of the intercommunal housing
conference (PDF). They take the tables as the pages show them: small cells are masked already."""

import csv
import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .figures import MIN_CELL


def as_csv(table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([str(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([str(c) for c in row])
    return "\ufeff" + out.getvalue()  # BOM: spreadsheet programs read the accents right


def as_xlsx(tables, subtitle: str) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(title=table.key[:31])
        sheet.append([str(table.title)])
        sheet["A1"].font = Font(bold=True)
        sheet.append([subtitle])
        sheet.append([str(h) for h in table.headers])
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([c if isinstance(c, int | float) else str(c) for c in row])
        if table.note:
            sheet.append([])
            sheet.append([str(table.note)])
        sheet.column_dimensions["A"].width = 45
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _pdf_table(table, styles):
    data = [[Paragraph(str(h), styles["BodyText"]) for h in table.headers]]
    data += [[Paragraph(str(c), styles["BodyText"]) for c in row] for row in table.rows]
    t = Table(data, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def _bar_drawing(title, items):
    items = [(str(label)[:35], n if n >= MIN_CELL else 0) for label, n in items][:12]
    drawing = Drawing(16 * cm, max(3, len(items)) * 0.6 * cm + 1.5 * cm)
    if not items:
        return drawing
    chart = HorizontalBarChart()
    chart.x, chart.y = 6 * cm, 0.5 * cm
    chart.width, chart.height = 9 * cm, len(items) * 0.6 * cm
    chart.data = [[n for _l, n in items]]
    chart.categoryAxis.categoryNames = [label for label, _n in items]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#1f4e79")
    drawing.add(chart)
    drawing.add(String(0, drawing.height - 10, str(title), fontSize=9))
    return drawing


def yearly_report(*, title: str, subtitle: str, tables, quota_tables, charts) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=title, author="PPGDID", leftMargin=1.5 * cm, rightMargin=1.5 * cm)
    styles = getSampleStyleSheet()
    story = [
        Paragraph(title, styles["Title"]),
        Paragraph(subtitle, styles["Normal"]),
        Paragraph(
            f"Édité le {timezone.localdate():%d/%m/%Y}. Secret statistique : un effectif de 1 à 4 "
            "ménages est indiqué « moins de 5 » ; les zéros restent des zéros.",
            styles["Normal"],
        ),
        Spacer(1, 0.4 * cm),
        Paragraph("Objectifs légaux et de la CIA", styles["Heading2"]),
    ]
    for table in quota_tables:
        story += [Paragraph(str(table.title), styles["Heading3"]), _pdf_table(table, styles)]
        if table.note:
            story.append(Paragraph(str(table.note), styles["Italic"]))
    story += [PageBreak(), Paragraph("Activité de l'année", styles["Heading2"])]
    for key, label in (
        ("stock_etape", "Dossiers ouverts par étape"),
        ("relogements", "Relogements par contingent"),
        ("refus_motif", "Refus par motif"),
    ):
        if charts.get(key):
            story += [_bar_drawing(label, charts[key]), Spacer(1, 0.3 * cm)]
    for table in tables:
        story += [Paragraph(str(table.title), styles["Heading3"]), _pdf_table(table, styles)]
        if table.note:
            story.append(Paragraph(str(table.note), styles["Italic"]))
    doc.build(story)
    return out.getvalue()
