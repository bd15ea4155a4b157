"""PDF documents of a session: the minutes (procès-verbal) and the decision letter to a household.

The minutes name each case by its reference only and carry only decision data (members may read
it); never narrative, health, violence, address or contact. The letter shows the household's
address only to a reader whose role may see it (permissions.visibility).
"""

from io import BytesIO
from xml.sax.saxutils import escape

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.formats import date_format
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cases import choices
from cases import deadlines as legal
from cases.models import CommitteeReview
from permissions.visibility import can_see_field

from . import selectors
from .models import Amendment, CommitteeMember, Session, VoteChoice, WrittenProcedure

# Recours gracieux then tribunal administratif: 2 months each (code des relations entre le public et
# l'administration, L411-2, and code de justice administrative, R421-1). Configurable if a territory
# states otherwise in its rules.
APPEAL_MONTHS = 2
# The loss of DALO benefit cannot be appealed to the commission (no recours gracieux): the household
# contests it only within a recours en injonction before the tribunal administratif (L441-2-3-1 CCH),
# filed within 4 months of the end of the préfet's deadline (R778-2 code de justice administrative;
# marked uncertain in shared/domain.md: one constant to change).
INJONCTION_MONTHS = 4

_styles = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_styles["BodyText"], fontName="Helvetica", fontSize=10, leading=14)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8.5, leading=11, textColor=colors.HexColor("#3a3a3a"))
H1 = ParagraphStyle("h1", parent=_styles["Heading1"], fontName="Helvetica-Bold", fontSize=16, leading=20)
H2 = ParagraphStyle("h2", parent=_styles["Heading2"], fontName="Helvetica-Bold", fontSize=12, leading=16)


def _p(text, style=BODY):
    return Paragraph(escape(str(text)), style)


def _date(value):
    return date_format(value, "j F Y") if value else ""


def _datetime(value):
    return date_format(timezone.localtime(value), "j F Y à H:i") if value else ""


def _table(rows, widths):
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _build(story, title) -> bytes:
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author="Ménages prioritaires", leftMargin=2 * cm, rightMargin=2 * cm
    )
    doc.build(story)
    return buffer.getvalue()


def decision_lines(review: CommitteeReview, decision=None) -> list[str]:
    """The decision in short lines (minutes, pages): outcome and what it states. Decision data only."""
    if review.kind == CommitteeReview.Kind.DALO_LOSS:
        lines = [
            "Perte du bénéfice DALO confirmée" if review.dalo_benefit_lost else "Perte du bénéfice DALO non confirmée"
        ]
    else:
        lines = [str(review.get_outcome_display())]
    for name in (
        "orientation",
        "target_reservataire",
        "designated_landlord",
        "support_measure",
        "missing_items",
        "adjourned_until",
        "redirected_to",
        "reason",
    ):
        value = getattr(review, name)
        if value in (None, ""):
            continue
        display = getattr(review, f"get_{name}_display", None)
        shown = _date(value) if name == "adjourned_until" else (display() if display else value)
        lines.append(f"{review._meta.get_field(name).verbose_name.capitalize()} : {shown}")
    if decision is not None and decision.pk:
        others = ", ".join(str(o) for o in decision.other_landlords.all())
        if others:
            lines.append(f"Autres bailleurs pressentis : {others}")
    return lines


def tally_line(tally: dict, kind: str) -> str:
    options = (
        (VoteChoice.LOSS_CONFIRMED, VoteChoice.LOSS_NOT_CONFIRMED)
        if kind == CommitteeReview.Kind.DALO_LOSS
        else (VoteChoice.LABELLED, VoteChoice.ADJOURNED, VoteChoice.NOT_KEPT, VoteChoice.REDIRECTED)
    )
    counts = tally.get("counts", {})
    parts = [f"{choice.label} : {counts.get(choice.value, 0)}" for choice in options]
    return (
        f"Voix : {' ; '.join(parts)} ({tally.get('counted', 0)} voix comptées, "
        f"{tally.get('recused', 0)} déport(s), {tally.get('not_counted', 0)} avis non comptés)"
    )


# --- minutes ------------------------------------------------------------------------------------------


def minutes_pdf(session: Session, version: int = 1) -> bytes:
    committee = session.committee
    seats = list(committee.members.filter(is_active=True).select_related("user", "organisation"))
    present_ids = selectors.present_member_ids(session)
    quorum = selectors.quorum(session)
    title = f"Procès-verbal – {committee.name} – séance du {_date(timezone.localdate(session.starts_at))}"
    story = [_p(title, H1)]
    if version > 1:
        story.append(
            _p(f"Version {version} : procès-verbal rectifié (voir les rectificatifs en fin de document).", BODY)
        )
    where = session.place or ""
    if session.video_link:
        where = f"{where} – visioconférence" if where else "Visioconférence"
    story += [
        _p(f"Date : {_datetime(session.starts_at)}"),
        _p(f"Lieu : {where}"),
        _p(f"Séance ouverte le {_datetime(session.opened_at)}, close le {_datetime(session.closed_at)}."),
        _p(
            f"Mode de décision : {committee.get_decision_mode_display()}. Règle de quorum : {committee.quorum_label()}."
        ),
        _p("Membres", H2),
    ]
    rows = [["Membre", "Organisation", "Fonction", "Présence"]]
    for seat in seats:
        function = seat.get_function_display() + ("" if seat.has_vote else " (sans voix délibérative)")
        rows.append(
            [
                seat.display_name,
                _p(seat.organisation.name, SMALL),
                function,
                "Présent" if seat.pk in present_ids else "Absent ou excusé",
            ]
        )
    story.append(_table(rows, [4.5 * cm, 6 * cm, 3.5 * cm, 3 * cm]))
    reached = "atteint" if quorum.reached else "non atteint"
    story.append(
        _p(
            f"Quorum en début de séance : {quorum.present} membre(s) votant(s) présent(s) sur {quorum.voting}, "
            f"{quorum.required} requis : {reached}."
        )
    )

    items = list(selectors.agenda(session))
    recusals = [(item, r) for item in items for r in item.recusals.select_related("member__user")]
    story.append(_p("Déports", H2))
    if recusals:
        rows = [["Dossier", "Membre", "Motif"]]
        rows += [[item.case.reference, r.member.display_name, _p(r.reason, SMALL)] for item, r in recusals]
        story.append(_table(rows, [4 * cm, 5 * cm, 8 * cm]))
    else:
        story.append(_p("Aucun déport."))

    story.append(_p("Dossiers examinés", H2))
    for item in items:
        story.append(_p(f"{item.position}. Dossier {item.case.reference} – {item.get_kind_display()}", BODY))
        decision = getattr(item, "decision", None)
        if decision is None:
            story.append(_p("Non examiné : le dossier reste en attente d'une prochaine séance.", SMALL))
            continue
        lines = [*decision_lines(decision.review, decision), tally_line(decision.tally, item.kind)]
        lines.append(f"Décision enregistrée le {_datetime(decision.recorded_at)} ({decision.get_mode_display()}).")
        story.append(
            ListFlowable([ListItem(_p(line, SMALL), leftIndent=12) for line in lines], bulletType="bullet", start="–")
        )

    amendments = Amendment.objects.filter(decision__item__session=session).select_related(
        "decision__item__case", "amended_by"
    )
    if amendments:
        story.append(_p("Rectificatifs", H2))
        for amendment in amendments:
            changed = " ; ".join(f"{name} : « {old} » → « {new} »" for name, (old, new) in amendment.changes.items())
            story.append(
                _p(
                    f"Dossier {amendment.decision.item.case.reference}, le {_datetime(amendment.amended_at)} : "
                    f"{changed}. Motif : {amendment.reason}",
                    SMALL,
                )
            )
    story += [
        Spacer(1, 0.6 * cm),
        _p(
            f"Document généré le {_datetime(timezone.now())}, version {version}. Les dossiers sont désignés par "
            "leur référence ; ce procès-verbal ne contient que des informations que les membres de la "
            "commission sont autorisés à connaître.",
            SMALL,
        ),
    ]
    return _build(story, title)


# --- decision letter ----------------------------------------------------------------------------------


def _what_was_decided(review, case, committee_name, decision) -> tuple[list[str], list[str], list[str]]:
    """(decision paragraphs, what happens next, deadlines) in plain French."""
    outcome = choices.CommitteeOutcome
    deadlines = []
    if review.kind == CommitteeReview.Kind.DALO_LOSS:
        if review.dalo_benefit_lost:
            said = [
                "Vous avez refusé un logement qui vous avait été proposé au titre du DALO et qui correspondait "
                "à vos besoins. Vous aviez été informé(e) des conséquences d'un refus.",
                "La commission confirme que vous perdez le bénéfice du DALO. L'État n'est plus obligé de vous "
                "reloger au titre du DALO.",
                f"Motif : {review.reason}",
            ]
            next_ = [
                "Votre demande de logement social reste enregistrée : pensez à la renouveler chaque année.",
                "Votre travailleur social peut vous aider à chercher d'autres solutions.",
            ]
        else:
            said = [
                "La commission a examiné votre refus du logement proposé. Elle considère que vous ne perdez pas "
                "le bénéfice du DALO.",
                f"Motif : {review.reason}",
            ]
            next_ = ["Un autre logement adapté à vos besoins vous sera proposé."]
            if case.dalo_offer_deadline:
                deadlines.append(
                    f"L'État doit vous faire une offre de logement avant le {_date(case.dalo_offer_deadline)}."
                )
        return said, next_, deadlines
    if review.outcome == outcome.LABELLED:
        said = [
            "Bonne nouvelle : la commission a reconnu que votre demande de logement est prioritaire.",
            f"Type de logement recherché : {review.get_orientation_display().lower()}.",
        ]
        if review.designated_landlord:
            said.append(f"Le bailleur chargé de vous proposer un logement : {review.designated_landlord}.")
        if review.target_reservataire:
            said.append(f"Votre demande est suivie par : {review.target_reservataire}.")
        if review.support_measure and review.support_measure != choices.SupportMeasure.NONE:
            said.append(f"Un accompagnement vous est proposé : {review.get_support_measure_display()}.")
        next_ = [
            "Le bailleur vous contactera quand un logement adapté sera disponible. Il peut vous demander de "
            "visiter le logement et de fournir des documents.",
            "Votre dossier passera ensuite en commission d'attribution (CALEOL) du bailleur, qui décide.",
            "Pensez à renouveler votre demande de logement social chaque année, sinon elle est supprimée.",
        ]
        reply_days = legal.reply_days(legal.case_departement(case))  # R441-10 CCH, the one rule
        deadlines.append(
            f"Quand un logement vous sera proposé, vous aurez au moins {reply_days} jours pour répondre, "
            "à compter du lendemain du jour où vous recevez l'offre (reporté au premier jour ouvré si le dernier "
            "jour tombe un samedi, un dimanche ou un jour férié). Sans réponse dans ce délai, on considère que "
            "vous refusez."
        )
        if case.is_dalo and case.dalo_offer_deadline:
            deadlines.append(
                f"Vous êtes reconnu(e) prioritaire DALO : l'État doit vous faire une offre avant le "
                f"{_date(case.dalo_offer_deadline)}. Refuser sans motif sérieux un logement adapté peut vous "
                "faire perdre le bénéfice du DALO."
            )
        return said, next_, deadlines
    if review.outcome == outcome.ADJOURNED:
        said = [
            "La commission n'a pas encore pu décider : il manque des informations dans votre dossier.",
            f"Ce qui manque : {review.missing_items}",
        ]
        if review.reason:
            said.append(f"Précision : {review.reason}")
        next_ = [
            "Apportez ces éléments à votre travailleur social. Votre dossier sera ensuite examiné de nouveau "
            "par la commission.",
        ]
        if review.adjourned_until:
            deadlines.append(f"À fournir avant le {_date(review.adjourned_until)}.")
        return said, next_, deadlines
    if review.outcome == outcome.NOT_KEPT:
        said = [
            "La commission n'a pas retenu votre demande comme prioritaire.",
            f"Motif : {review.reason}",
        ]
        next_ = [
            "Votre demande de logement social reste enregistrée et continue d'être examinée comme les autres. "
            "Pensez à la renouveler chaque année.",
            "Si votre situation change, votre travailleur social peut présenter de nouveau votre dossier.",
        ]
        return said, next_, deadlines
    target = review.get_redirected_to_display()
    said = [f"La commission propose une autre solution, mieux adaptée à votre situation : {target}."]
    if review.reason:
        said.append(f"Motif : {review.reason}")
    next_by_target = {
        choices.RedirectTarget.SIAO: "Votre travailleur social transmet votre demande au SIAO (service intégré "
        "d'accueil et d'orientation), qui vous proposera une solution d'hébergement ou de logement accompagné.",
        choices.RedirectTarget.SHELTER: "Votre travailleur social vous aide à obtenir une place d'hébergement.",
        choices.RedirectTarget.DALO_RECOURSE: "La commission vous conseille de déposer un recours DALO auprès de "
        "la commission de médiation (COMED) de votre département. Votre travailleur social peut vous aider à "
        "remplir le formulaire.",
    }
    next_ = [next_by_target.get(review.redirected_to, ""), "Votre demande de logement social reste enregistrée."]
    return said, next_, deadlines


def decision_letter_pdf(decision, roles) -> bytes:
    """The letter to the household about one decision. `roles` are the reader's roles."""
    review = decision.review
    case = review.case
    household = case.household
    in_writing = isinstance(decision, WrittenProcedure)  # else a SessionDecision
    committee = decision.committee if in_writing else decision.item.session.committee
    examined_on = _date(timezone.localdate(decision.closed_at if in_writing else decision.item.session.starts_at))
    today = timezone.localdate()
    title = f"Décision de la commission – dossier {case.reference}"
    story = [_p(committee.name, H2), _p(f"Le {_date(today)}", SMALL), Spacer(1, 0.4 * cm)]
    addressee = [f"{household.applicant_first_name} {household.applicant_last_name}"]
    if can_see_field(roles, "cases.household", "address", protected=case.is_protected) and household.address:
        addressee.append(household.address)
        if household.commune:
            addressee.append(household.commune.name)
    else:
        addressee.append(f"Courrier remis par votre travailleur social ({case.organisation}).")
    story += [_p(line) for line in addressee]
    story += [
        Spacer(1, 0.4 * cm),
        _p(f"Numéro de votre demande de logement social : {household.nud}", SMALL),
        _p(f"Référence de votre dossier : {case.reference}", SMALL),
        Spacer(1, 0.3 * cm),
        _p(f"Objet : décision de la commission du {examined_on}", H2),
        _p("Madame, Monsieur,"),
        _p(
            f"La commission partenariale a examiné votre dossier par procédure écrite (ses membres ont voté par "
            f"écrit), décision enregistrée le {examined_on}. Voici sa décision."
            if in_writing
            else f"La commission partenariale a examiné votre dossier lors de sa séance du {examined_on}. "
            "Voici sa décision."
        ),
    ]
    said, next_, deadlines = _what_was_decided(review, case, committee.name, decision)
    story.append(_p("Ce qui a été décidé", H2))
    story += [_p(line) for line in said]
    story.append(_p("Et maintenant ?", H2))
    story += [_p(line) for line in next_ if line]
    loss_confirmed = review.kind == CommitteeReview.Kind.DALO_LOSS and review.dalo_benefit_lost
    if loss_confirmed:
        # One route only: no recours gracieux against a loss of DALO benefit, only the injonction.
        route = _loss_appeal(case)
        deadlines.append(route)
    else:
        appeal_until = today + relativedelta(months=APPEAL_MONTHS)
        deadlines.append(
            f"Pour contester : {APPEAL_MONTHS} mois à partir du jour où vous recevez ce courrier "
            f"(par exemple avant le {_date(appeal_until)} si vous le recevez aujourd'hui)."
        )
    story.append(_p("Les délais à retenir", H2))
    story.append(ListFlowable([ListItem(_p(line), leftIndent=12) for line in deadlines], bulletType="bullet"))
    story.append(_p("Si vous n'êtes pas d'accord", H2))
    if loss_confirmed:
        story += [
            _p(
                "Cette décision ne peut pas faire l'objet d'un recours gracieux auprès de la commission. "
                "La perte du bénéfice du DALO ne peut être contestée que devant le tribunal administratif, "
                "dans le cadre d'un recours en injonction (article L441-2-3-1 du code de la construction et de "
                f"l'habitation). {route}"
            ),
            _p(
                "Vous pouvez demander l'aide juridictionnelle pour être aidé(e) gratuitement par un avocat ; "
                "votre travailleur social peut vous aider à préparer ce recours."
            ),
        ]
    else:
        story += [
            _p(
                f"1. Vous pouvez écrire à la commission pour lui demander de revoir sa décision (recours gracieux), "
                f"dans les {APPEAL_MONTHS} mois après avoir reçu ce courrier. Expliquez pourquoi vous n'êtes pas "
                f"d'accord et joignez les documents utiles. Adressez votre courrier à : {committee.name}, "
                f"par l'intermédiaire de votre travailleur social."
            ),
            _p(
                f"2. Si la commission maintient sa décision, ou si elle ne vous répond pas dans les 2 mois, vous "
                f"pouvez saisir le tribunal administratif dans les {APPEAL_MONTHS} mois qui suivent. Vous pouvez "
                "demander l'aide juridictionnelle pour être aidé(e) gratuitement par un avocat."
            ),
        ]
    amendments = [] if in_writing else list(decision.amendments.all())  # no amendment on a written procedure
    if amendments:
        story.append(
            _p(
                f"Cette décision a été rectifiée le {_date(timezone.localdate(amendments[-1].amended_at))}. "
                "Ce courrier tient compte de la rectification.",
                SMALL,
            )
        )
    story += [
        Spacer(1, 0.4 * cm),
        _p(f"Votre travailleur social ({case.organisation}) peut répondre à vos questions et vous aider."),
        _p("Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées."),
        Spacer(1, 0.3 * cm),
        _p(f"Pour la commission, {_chair_name(committee)}"),
    ]
    return _build(story, title)


def _chair_name(committee) -> str:
    chair = (
        committee.members.filter(function=CommitteeMember.Function.CHAIR, is_active=True).select_related("user").first()
    )
    return f"la présidence ({chair.display_name})" if chair else "la présidence"


def _loss_appeal(case) -> str:
    """The one route against a loss of DALO benefit, with its delay (see INJONCTION_MONTHS)."""
    if case.dalo_offer_deadline:
        until = case.dalo_offer_deadline + relativedelta(months=INJONCTION_MONTHS)
        return (
            f"Le recours en injonction se forme dans les {INJONCTION_MONTHS} mois qui suivent la fin du délai "
            f"dont disposait le préfet pour vous faire une offre ({_date(case.dalo_offer_deadline)}), "
            f"soit au plus tard le {_date(until)}."
        )
    return (
        f"Le recours en injonction se forme dans les {INJONCTION_MONTHS} mois qui suivent la fin du délai dont "
        "disposait le préfet pour vous faire une offre."
    )
