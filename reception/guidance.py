"""Guided identification at reception: a short questionnaire in plain words, and the L441-1 CCH
criteria it suggests, each explained, with the evidence to ask for.

A suggestion only: the social worker who confirms a referral decides the criteria. The letters follow
cases.choices.PriorityCriterion (to be checked on Légifrance, see shared/domain.md).
"""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.choices import HousingSituation, PriorityCriterion

# (field name, question in plain words, criterion it points to)
QUESTIONS = [
    ("dalo", _("La commission de médiation DALO vous a-t-elle reconnu prioritaire et urgent ?"), "dalo"),
    (
        "violence",
        _("Subissez-vous des violences de votre conjoint ou ex-conjoint, ou une menace de mariage forcé ?"),
        "e",
    ),
    ("disability", _("Vous-même ou une personne à votre charge êtes-vous en situation de handicap ?"), "a"),
    ("health", _("Votre logement actuel est-il inadapté à votre état de santé ?"), "a"),
    ("eviction", _("Êtes-vous menacé d'expulsion sans solution de relogement ?"), "j"),
    ("unfit", _("Votre logement est-il insalubre, dangereux ou indigne ?"), "d_bis"),
    (
        "overcrowded",
        _("Vivez-vous avec un enfant mineur dans un logement trop petit ou en mauvais état ?"),
        "h",
    ),
    ("low_resources", _("Avez-vous de grandes difficultés financières pour vous loger ?"), "b"),
    ("former_ase", _("Avez-vous moins de 21 ans, après une prise en charge par l'aide sociale à l'enfance ?"), "k"),
    ("work_resumption", _("Reprenez-vous un emploi après un long chômage ?"), "d"),
]

# Where the person lives now → the criterion that situation points to.
SITUATION_CRITERIA = {
    HousingSituation.HOMELESS: "i",
    HousingSituation.HOSTED: "i",
    HousingSituation.SHELTER: "c",
    HousingSituation.TRANSITIONAL: "c",
    HousingSituation.HOTEL: "c",
    HousingSituation.UNFIT: "d_bis",
}

# Plain-words explanation and the evidence to ask for, per criterion.
EXPLANATIONS = {
    "dalo": (
        _("Les ménages reconnus DALO passent en premier : le préfet doit leur faire faire une offre adaptée."),
        [_("La décision de la commission de médiation (COMED)")],
    ),
    "a": (
        _("Le handicap de la personne ou d'une personne à sa charge rend le relogement prioritaire."),
        [_("Notification de la MDPH (taux d'incapacité, carte mobilité inclusion) ou certificat médical")],
    ),
    "b": (
        _("Une personne mal logée ou en grande difficulté financière ou d'insertion peut être prioritaire."),
        [_("Justificatifs de ressources des trois derniers mois"), _("Quittance ou attestation de loyer")],
    ),
    "c": (
        _("Une personne hébergée en structure ou logée temporairement est prioritaire pour sortir vers un logement."),
        [_("Attestation d'hébergement de la structure ou du SIAO")],
    ),
    "d": (
        _("Reprendre un emploi après un chômage de longue durée ouvre une priorité."),
        [_("Contrat de travail ou promesse d'embauche"), _("Attestation de France Travail")],
    ),
    "d_bis": (
        _("Vivre dans un logement insalubre, dangereux ou indigne rend le relogement prioritaire."),
        [_("Arrêté de péril ou d'insalubrité, ou rapport d'un service d'hygiène"), _("Photos si rien d'autre")],
    ),
    "e": (
        _(
            "Les victimes de violences au sein du couple, même si le conjoint est titulaire du bail, ou menacées de "
            "mariage forcé, sont prioritaires. Le dossier peut être protégé (adresse masquée)."
        ),
        [
            _("Ordonnance de protection, dépôt de plainte ou main courante"),
            _("À défaut : attestation d'un travailleur social ou d'une association"),
        ],
    ),
    "h": (
        _("Un ménage avec un enfant mineur dans un logement sur-occupé ou non décent est prioritaire."),
        [_("Bail ou attestation indiquant la surface"), _("Livret de famille ou actes de naissance")],
    ),
    "i": (
        _("Une personne sans logement, y compris hébergée chez des proches, est prioritaire."),
        [_("Attestation d'hébergement par un tiers"), _("Domiciliation administrative, le cas échéant")],
    ),
    "j": (
        _("Une personne menacée d'expulsion sans solution de relogement est prioritaire."),
        [_("Jugement d'expulsion ou commandement de quitter les lieux")],
    ),
    "k": (
        _("Un jeune de moins de 21 ans qui a été pris en charge par l'aide sociale à l'enfance peut être prioritaire."),
        [_("Attestation de prise en charge par l'ASE")],
    ),
}


@dataclass(frozen=True)
class Suggestion:
    code: str
    label: str
    explanation: str
    evidence: list


class QuestionnaireForm(forms.Form):
    housing_situation = forms.ChoiceField(
        label=_("Où la personne vit-elle aujourd'hui ?"), choices=[("", "---------"), *HousingSituation.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, question, _code in QUESTIONS:
            self.fields[name] = forms.BooleanField(label=question, required=False)

    def answers(self) -> dict:
        return dict(self.cleaned_data)


def suggest(answers: dict) -> list[Suggestion]:
    """The criteria the answers point to, in the order of the law's list, each with its explanation."""
    codes = set()
    situation = SITUATION_CRITERIA.get(answers.get("housing_situation"))
    if situation:
        codes.add(situation)
    for name, _question, code in QUESTIONS:
        if answers.get(name):
            codes.add(code)
    order = list(PriorityCriterion.values)
    return [
        Suggestion(code, PriorityCriterion(code).label, *EXPLANATIONS[code]) for code in sorted(codes, key=order.index)
    ]


def protection_advised(answers: dict) -> bool:
    """Violence: the social worker is told to consider protecting the case (never the facts)."""
    return bool(answers.get("violence"))
