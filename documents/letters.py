"""The letters to the household as PDF: the territory's text (or the default one) filled with the case's
data. The reply deadline comes from cases/deadlines.py (R441-10 CCH), never counted here."""

from dataclasses import dataclass
from datetime import date
from io import BytesIO
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from cases import deadlines as legal
from cases.choices import ReplyAnswer
from committees.documents import BODY, H2, SMALL

from .kinds import DocumentKind as K
from .models import LetterTemplate
from .placeholders import DEFAULT_BODIES, DEFAULT_SUBJECTS, check_template

DALO_OFFER = (
    "Vous êtes reconnu(e) prioritaire au titre du droit au logement opposable (DALO). Ce logement vous est "
    "proposé pour répondre à cette décision. Si vous le refusez sans motif légitime alors qu'il est adapté à vos "
    "besoins et à vos capacités, vous risquez de perdre le bénéfice du DALO : l'État ne serait plus obligé de vous "
    "proposer un logement (article L441-2-3 du code de la construction et de l'habitation)."
)
DALO_REFUSAL = (
    "Vous êtes reconnu(e) prioritaire au titre du DALO. Votre refus va être examiné : s'il est jugé sans motif "
    "légitime alors que le logement était adapté à vos besoins et à vos capacités, vous pourriez perdre le "
    "bénéfice du DALO (article L441-2-3 du code de la construction et de l'habitation). Vous serez informé(e) de "
    "la décision et vous pourrez présenter vos observations par l'intermédiaire de votre travailleur social."
)


def euros(value) -> str:
    """1 320,00 € (French grouping and decimal comma)."""
    with translation.override("fr"):
        return f"{number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)}\u00a0€"


def french_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@dataclass
class Text:
    subject: str
    body: str
    customised: bool


def template_text(departement: str | None, kind: str) -> Text:
    row = LetterTemplate.objects.filter(departement=departement or "", kind=kind).first()
    if row is not None:
        return Text(row.subject, row.body, True)
    return Text(DEFAULT_SUBJECTS[kind], DEFAULT_BODIES[kind], False)


def proposal_for(case, kind: str):
    """The offer a letter of this kind is about, or a French ValidationError saying why there is none."""
    proposals = case.proposals.select_related("dwelling__commune", "dwelling__landlord", "reply").order_by(
        "-created_at", "-pk"
    )
    if kind == K.REFUSAL_LETTER:
        for proposal in proposals:
            reply = getattr(proposal, "reply", None)
            if reply is not None and reply.answer in (ReplyAnswer.REFUSED, ReplyAnswer.NO_REPLY):
                return proposal
        raise ValidationError(_("Aucun refus n'est enregistré sur ce dossier : pas de courrier après refus."))
    waiting = [p for p in proposals if getattr(p, "reply", None) is None]
    if not waiting:
        raise ValidationError(_("Aucune offre n'attend la réponse du ménage : pas de courrier à envoyer."))
    proposal = waiting[0]
    if kind == K.REMINDER_LETTER:
        due = legal.reply_due(proposal)
        if due is None:
            raise ValidationError(
                _("Le délai de réponse n'a pas commencé (offre non notifiée ou lettre recommandée non remise).")
            )
        if due < timezone.localdate():
            raise ValidationError(
                _("La date limite de réponse (%(due)s) est passée : le rappel n'a plus lieu d'être.")
                % {"due": french_date(due)}
            )
    return proposal


def values_for(case, kind: str, proposal) -> dict:
    household = case.household
    dwelling = proposal.dwelling
    departement = legal.offer_departement(proposal)
    due = legal.reply_due(proposal, departement)
    days = legal.reply_days(departement)
    reply = getattr(proposal, "reply", None)
    dalo = ""
    if case.is_dalo:
        dalo = DALO_REFUSAL if kind == K.REFUSAL_LETTER else DALO_OFFER
    return {
        "nom": f"{household.applicant_first_name} {household.applicant_last_name}".strip(),
        "reference": case.reference,
        "nud": household.nud,
        "logement": f"{dwelling.get_typology_display()}, {dwelling.address}, {dwelling.commune.name}",
        "bailleur": str(dwelling.landlord),
        "loyer": euros(dwelling.rent),
        "charges": euros(dwelling.charges),
        "loyer_total": euros(dwelling.rent + dwelling.charges),
        # Not started yet (offer not notified): the letter states the period, counted from its receipt.
        "date_limite": french_date(due)
        or f"{days}e jour suivant la réception de ce courrier (ou le premier jour ouvré qui suit s'il tombe un "
        "samedi, un dimanche ou un jour férié)",
        "delai_jours": str(days),
        "date_reponse": french_date(reply.replied_on) if reply else "",
        "organisation": str(case.organisation),
        "date_du_jour": french_date(timezone.localdate()),
        "consequences_dalo": dalo,
    }


def _p(text, style=BODY):
    return Paragraph(escape(text), style)


def letter_pdf(case, kind: str, proposal) -> bytes:
    household = case.household
    departement = legal.offer_departement(proposal)
    text = template_text(departement, kind)
    check_template(text.subject, text.body)  # a row written around the form (admin shell) is checked too
    values = values_for(case, kind, proposal)
    subject = text.subject.format_map(values)
    paragraphs = [block.strip() for block in text.body.format_map(values).split("\n\n")]
    story = [
        _p(str(case.organisation), H2),
        _p(f"Le {values['date_du_jour']}", SMALL),
        Spacer(1, 0.4 * cm),
        _p(values["nom"]),
    ]
    if household.address:
        story.append(_p(household.address))
    if household.commune:
        story.append(_p(household.commune.name))
    story += [
        Spacer(1, 0.4 * cm),
        _p(f"Référence de votre dossier : {case.reference}", SMALL),
        _p(f"Numéro de votre demande de logement social : {household.nud}", SMALL),
        Spacer(1, 0.3 * cm),
        _p(f"Objet : {subject}", H2),
    ]
    story += [_p(" ".join(block.split("\n"))) for block in paragraphs if block]
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=subject, author=str(case.organisation), leftMargin=2 * cm, rightMargin=2 * cm
    )
    doc.build(story)
    return buffer.getvalue()
