"""The household's right of access (RGPD art. 15): everything the product holds about the household
of one case, as JSON and as PDF.

Contents: the data (household, members, case, diagnostic, criteria, committee reviews, proposals,
CALEOL decisions, replies, legal holds), the history of changes of those rows (when, who, what
changed), who was told what and when (notifications), and the read log of the case. What the
visibility matrix hides from the household itself (shared/visibility.md, column "household (self)":
the violence category, which may name the aggressor) is left out, as are the lists of communes to
avoid of a protected case.
"""

import io
import json
from html import escape

from django.core.files.base import ContentFile
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AccessLog
from cases.models import CaleolDecision, CaseCriterion, CommitteeReview, Diagnostic, HouseholdMember, HouseholdReply
from notifications.models import Notification
from permissions.categories import Category
from permissions.visibility import FIELD_CATEGORIES

from .models import LegalHold, SubjectAccessExport

# The household (self) column of the matrix: the only category it may not read.
HIDDEN_FROM_SELF = {Category.VIOLENCE}
HIDDEN_FIELDS = {("cases.diagnostic", "violence_facts"), ("cases.diagnostic", "areas_to_avoid")}
SKIPPED = {"id", "history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}


def _hidden(label: str, name: str) -> bool:
    if (label, name) in HIDDEN_FIELDS:
        return True
    return FIELD_CATEGORIES.get(label, {}).get(name) in HIDDEN_FROM_SELF


def _value(obj, field):
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")()
    value = getattr(obj, field.attname)
    if field.is_relation:
        related = getattr(obj, field.name, None) if value is not None else None
        return str(related) if related is not None else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str | list | dict):
        return value
    return str(value)


def _record(obj: Model) -> dict:
    label = obj._meta.label_lower
    result = {}
    for field in obj._meta.concrete_fields:
        if field.name in SKIPPED or _hidden(label, field.name) or field.name.endswith("_file"):
            continue
        result[str(field.verbose_name)] = _value(obj, field)
    return result


def _history(obj: Model) -> list[dict]:
    """The object's changes, oldest first: when, who, why, and the fields that changed."""
    label = obj._meta.label_lower
    rows = list(obj.history.order_by("history_date", "history_id").select_related("history_user"))
    result, previous = [], None
    names = [f for f in obj._meta.concrete_fields if f.name not in SKIPPED and not _hidden(label, f.name)]
    for row in rows:
        changed = {}
        for field in names:
            if not hasattr(row, field.attname):
                continue
            now = _value(row, field)
            if previous is None or _value(previous, field) != now:
                changed[str(field.verbose_name)] = now
        result.append(
            {
                "date": row.history_date.isoformat(),
                "type": {"+": _("création"), "~": _("modification"), "-": _("suppression")}[row.history_type],
                "par": _person(row.history_user),
                "motif": row.history_change_reason or "",
                "valeurs": changed,
            }
        )
        previous = row
    return result


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _objects(case):
    household = case.household
    yield _("Ménage"), household
    for member in HouseholdMember.objects.filter(household=household).order_by("pk"):
        yield _("Membre du ménage"), member
    yield _("Dossier"), case
    diagnostic = Diagnostic.objects.filter(case=case).first()
    if diagnostic:
        yield _("Diagnostic social"), diagnostic
    for criterion in CaseCriterion.objects.filter(case=case).order_by("pk"):
        yield _("Critère de priorité"), criterion
    for review in CommitteeReview.objects.filter(case=case).order_by("pk"):
        yield _("Examen en commission"), review
    for proposal in case.proposals.order_by("pk"):
        yield _("Proposition de logement"), proposal
        for decision in CaleolDecision.objects.filter(proposal=proposal):
            yield _("Décision de la CALEOL"), decision
        for reply in HouseholdReply.objects.filter(proposal=proposal):
            yield _("Réponse du ménage"), reply
    for hold in LegalHold.objects.filter(case=case).order_by("pk"):
        yield _("Gel légal"), hold


def build(case, requested_by) -> dict:
    data, history = [], []
    for title, obj in _objects(case):
        data.append({"objet": str(title), "valeurs": _record(obj)})
        history.append({"objet": str(title), "modifications": _history(obj)})
    notifications = [
        {
            "date": n.created_at.isoformat(),
            "destinataire": _person(n.recipient),
            "canal": n.get_channel_display(),
            "message": n.template,
            "envoyée le": n.sent_at.isoformat() if n.sent_at else None,
        }
        for n in Notification.objects.filter(case=case).select_related("recipient").order_by("created_at", "pk")
    ]
    reads = [
        {
            "date": r.at.isoformat(),
            "par": _person(r.user),
            "partie consultée": r.get_section_display(),
            "accès exceptionnel motivé": r.is_break_glass,
        }
        for r in AccessLog.objects.filter(case=case).select_related("user").order_by("at", "pk")
    ]
    return {
        "titre": _("Données détenues sur le ménage (droit d'accès, article 15 du RGPD)"),
        "dossier": case.reference,
        "produit le": timezone.now().isoformat(),
        "produit par": _person(requested_by),
        "données": data,
        "historique des modifications": history,
        "informations transmises": notifications,
        "consultations du dossier": reads,
    }


def as_json(pack: dict) -> bytes:
    return json.dumps(pack, ensure_ascii=False, indent=2, default=str).encode()


def as_pdf(pack: dict) -> bytes:
    from reportlab.lib.pagesizes import A4  # heavy: loaded when a PDF is asked for
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("small", fontSize=8.5, leading=10.5)

    def p(text, style=body):
        return Paragraph(escape(str(text)), style)

    story = [p(pack["titre"], styles["Title"]), p(f"{_('Dossier')} {pack['dossier']}")]
    story.append(p(f"{_('Produit le')} {pack['produit le'][:16]} {_('par')} {pack['produit par']}"))
    story.append(Spacer(1, 0.4 * cm))
    story.append(p(_("Données"), styles["Heading2"]))
    for item in pack["données"]:
        story.append(p(item["objet"], styles["Heading3"]))
        story += [p(f"{k} : {'' if v is None else v}") for k, v in item["valeurs"].items()]
    story.append(p(_("Historique des modifications"), styles["Heading2"]))
    for item in pack["historique des modifications"]:
        story.append(p(item["objet"], styles["Heading3"]))
        for change in item["modifications"]:
            story.append(p(f"{change['date'][:16]} — {change['type']} — {change['par']} {change['motif']}"))
            story += [p(f"    {k} : {'' if v is None else v}") for k, v in change["valeurs"].items()]
    story.append(p(_("Informations transmises"), styles["Heading2"]))
    for n in pack["informations transmises"] or [{"date": "", "destinataire": _("aucune")}]:
        story.append(p(" — ".join(str(v) for v in n.values() if v)))
    story.append(p(_("Consultations du dossier"), styles["Heading2"]))
    for r in pack["consultations du dossier"] or [{"date": _("aucune")}]:
        story.append(p(" — ".join(str(v) for v in r.values() if v not in (None, False))))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=pack["titre"], leftMargin=1.5 * cm, rightMargin=1.5 * cm).build(story)
    return buffer.getvalue()


def store(case, user, fmt: str, content: bytes) -> SubjectAccessExport:
    """Keep what was handed over (proof of the answer), until the case's identity rule deletes it."""
    export = SubjectAccessExport(case=case, requested_by=user)
    name = f"droit-acces-{case.reference}-{timezone.now():%Y%m%d-%H%M%S}.{fmt}"
    getattr(export, f"{fmt}_file").save(name, ContentFile(content), save=False)
    export.save()
    return export
