"""The letters' default texts, in plain French, and the placeholders a territory's text may use."""

from string import Formatter

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .kinds import DocumentKind as K

# Placeholder → what it becomes (shown on the template page).
PLACEHOLDERS = {
    "nom": "le nom du demandeur (prénom et nom)",
    "reference": "la référence du dossier (PP-2026-000123)",
    "nud": "le numéro unique de la demande de logement social",
    "logement": "le logement proposé (typologie, adresse, commune)",
    "bailleur": "le bailleur du logement",
    "loyer": "le loyer mensuel hors charges (1 320,00 €)",
    "charges": "les charges mensuelles",
    "loyer_total": "le loyer charges comprises",
    "date_limite": "la date limite de réponse (01/12/2026), calculée selon l'article R441-10 du CCH",
    "delai_jours": "le nombre de jours pour répondre",
    "date_reponse": "la date de la réponse ou du refus enregistré",
    "organisation": "l'organisation du travailleur social référent",
    "date_du_jour": "la date du courrier",
    "consequences_dalo": "pour un ménage DALO, le paragraphe sur les conséquences d'un refus (vide sinon)",
}

DEFAULT_SUBJECTS = {
    K.OFFER_LETTER: "Proposition de logement – dossier {reference}",
    K.REMINDER_LETTER: "Rappel : votre réponse est attendue au plus tard le {date_limite}",
    K.REFUSAL_LETTER: "Suite à votre refus du logement proposé – dossier {reference}",
}

DEFAULT_BODIES = {
    K.OFFER_LETTER: "\n\n".join(
        (
            "Madame, Monsieur,",
            "Nous avons le plaisir de vous proposer un logement : {logement}, proposé par {bailleur}.",
            "Le loyer est de {loyer} par mois, plus {charges} de charges, soit {loyer_total} par mois. Vous "
            "pouvez peut-être recevoir une aide au logement (APL) qui réduira ce montant.",
            "Vous devez donner votre réponse au plus tard le {date_limite}. Sans réponse à cette date, on "
            "considère que vous refusez ce logement.",
            "Pour répondre, ou si vous avez une question, contactez votre travailleur social ({organisation}).",
            "{consequences_dalo}",
            "Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.",
        )
    ),
    K.REMINDER_LETTER: "\n\n".join(
        (
            "Madame, Monsieur,",
            "Un logement vous a été proposé : {logement}, proposé par {bailleur}, pour un loyer de {loyer_total} "
            "par mois charges comprises.",
            "Nous n'avons pas encore reçu votre réponse. Vous devez répondre au plus tard le {date_limite}. "
            "Sans réponse à cette date, on considère que vous refusez ce logement.",
            "Contactez votre travailleur social ({organisation}) pour donner votre réponse ou poser vos questions.",
            "{consequences_dalo}",
            "Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.",
        )
    ),
    K.REFUSAL_LETTER: "\n\n".join(
        (
            "Madame, Monsieur,",
            "Nous avons enregistré le {date_reponse} votre refus du logement qui vous avait été proposé : "
            "{logement}, proposé par {bailleur}.",
            "Votre demande de logement social reste enregistrée. Pensez à la renouveler chaque année.",
            "{consequences_dalo}",
            "Votre travailleur social ({organisation}) reste à votre disposition pour faire le point avec vous.",
            "Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.",
        )
    ),
}


def check_template(subject: str, body: str) -> None:
    """A French ValidationError when a text names an unknown placeholder or has an unpaired brace."""
    errors = {}
    for field, text in (("subject", subject), ("body", body)):
        try:
            names = {name for _lit, name, _spec, _conv in Formatter().parse(text or "") if name is not None}
        except ValueError:
            errors[field] = _("Accolade sans sa paire : écrivez {{ ou }} pour une accolade dans le texte.")
            continue
        unknown = sorted(n for n in names if n not in PLACEHOLDERS)
        if unknown:
            errors[field] = _("Champ inconnu : %(names)s. Champs possibles : %(known)s.") % {
                "names": ", ".join("{" + n + "}" for n in unknown),
                "known": ", ".join("{" + n + "}" for n in PLACEHOLDERS),
            }
    if errors:
        raise ValidationError(errors)
