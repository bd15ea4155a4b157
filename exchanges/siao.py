"""Import of the SIAO's referrals (orientations) of homeless or sheltered households as pre-flags
(reception.models.PreFlag, source "siao") that a social worker of the organisation named by the
referral confirms or declines on the existing pre-flag pages. Layout: exchanges.layouts.SIAO_REFERRALS
(version 1); the SI-SIAO export format is not public, this adapter is the one place that reads it.

Idempotent: a referral is known by its SIAO reference within the SIAO's département (the commune's);
the same file twice creates nothing; a known reference with other values is listed as a conflict
and left as it is (the social worker may already have called the person back).
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from cases.choices import HousingSituation, PriorityCriterion
from cases.models import Commune
from reception.choices import PreFlagSource
from reception.models import PreFlag
from reception.services import preflag_receive, referral_targets

from .layouts import SIAO_REFERRALS
from .lines import LineImport, Rejected, checked, text, yes_no

# Households the SIAO refers: without housing, or sheltered (hosted, emergency or insertion shelter,
# hotel, temporary housing).
SITUATIONS = {
    HousingSituation.HOMELESS,
    HousingSituation.SHELTER,
    HousingSituation.HOSTED,
    HousingSituation.HOTEL,
    HousingSituation.TRANSITIONAL,
}
SYNONYMS = {
    "sans abri": HousingSituation.HOMELESS,
    "sans-abri": HousingSituation.HOMELESS,
    "rue": HousingSituation.HOMELESS,
    "hébergement": HousingSituation.SHELTER,
    "hebergement": HousingSituation.SHELTER,
    "chrs": HousingSituation.SHELTER,
    "hébergé chez un tiers": HousingSituation.HOSTED,
    "hôtel": HousingSituation.HOTEL,
    "hotel": HousingSituation.HOTEL,
    "logement temporaire": HousingSituation.TRANSITIONAL,
}
SIRET = re.compile(r"^\d{14}$")
PHONE = re.compile(r"^\+?\d{9,15}$")
COMPARED = (
    "last_name",
    "first_name",
    "phone",
    "email",
    "commune_id",
    "housing_situation",
    "criteria",
    "protection_suggested",
    "referrer_name",
    "referrer_siret",
    "target_organisation_id",
)


class SiaoImport(LineImport):
    layout = SIAO_REFERRALS

    def prepare(self) -> None:
        self.communes = dict(Commune.objects.values_list("pk", "departement"))
        self.targets = {}
        for org in referral_targets().order_by("pk"):
            self.targets.setdefault(org.name.casefold(), org)
            if org.siren:
                self.targets.setdefault(org.siren, org)
        self.words = {code: code for code in SITUATIONS} | {
            str(HousingSituation(code).label).casefold(): code for code in SITUATIONS
        }
        self.words |= SYNONYMS

    def _commune(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise Rejected("valeur obligatoire manquante")
        if value not in self.communes:
            raise Rejected(f"commune inconnue : code INSEE « {value[:10]} » absent du référentiel")
        if self.allowed is not None and value not in self.allowed:
            raise Rejected("commune hors de votre territoire")
        return value

    def _situation(self, value: str) -> str:
        value = value.strip().casefold()
        if not value:
            raise Rejected("valeur obligatoire manquante")
        if value not in self.words:
            raise Rejected(
                "situation inconnue ou hors du champ du SIAO : sans abri, hébergement d'urgence ou d'insertion, "
                "hébergé chez un tiers, hôtel ou logement temporaire attendu"
            )
        return self.words[value]

    def _criteria(self, value: str) -> list[str]:
        codes = [c.strip().lower() for c in value.split("|") if c.strip()]
        unknown = [c for c in codes if c not in PriorityCriterion.values]
        if unknown:
            raise Rejected(f"critère inconnu : « {unknown[0][:10]} » (codes L441-1 attendus : dalo, a, b, c, … k)")
        return list(dict.fromkeys(codes))

    def _phone(self, value: str) -> str:
        value = re.sub(r"[\s.-]", "", value or "")
        if value and not PHONE.match(value):
            raise Rejected("numéro de téléphone invalide")
        return value

    def _email(self, value: str) -> str:
        value = (value or "").strip()
        if value:
            try:
                validate_email(value)
            except ValidationError:
                raise Rejected("adresse électronique invalide") from None
        return value

    def _siret(self, value: str) -> str:
        value = re.sub(r"\s", "", value or "")
        if value and not SIRET.match(value):
            raise Rejected("SIRET invalide : 14 chiffres attendus")
        return value

    def _target(self, value: str):
        value = (value or "").strip()
        if not value:
            raise Rejected("valeur obligatoire manquante")
        org = self.targets.get(re.sub(r"\s", "", value) if value[:1].isdigit() else value.casefold())
        if org is None:
            raise Rejected("organisation destinataire inconnue, ou sans travailleur social pour recevoir l'orientation")
        return org

    def read(self, row: dict):
        errors = []
        values = {
            "siao_reference": checked(
                errors, "reference_siao", text, row.get("reference_siao") or "", 40, required=True
            ),
            "last_name": checked(errors, "nom", text, row.get("nom") or "", 120, required=True),
            "first_name": checked(errors, "prenom", text, row.get("prenom") or "", 120, required=True),
            "phone": checked(errors, "telephone", self._phone, row.get("telephone")),
            "email": checked(errors, "courriel", self._email, row.get("courriel")),
            "commune_id": checked(errors, "commune_insee", self._commune, row.get("commune_insee") or ""),
            "housing_situation": checked(
                errors, "situation_logement", self._situation, row.get("situation_logement") or ""
            ),
            "criteria": checked(errors, "criteres", self._criteria, row.get("criteres") or ""),
            "protection_suggested": checked(errors, "protection", yes_no, row.get("protection") or ""),
            "referrer_name": checked(
                errors, "structure_orientatrice", text, row.get("structure_orientatrice") or "", 200, required=True
            ),
            "referrer_siret": checked(errors, "siret_structure", self._siret, row.get("siret_structure")),
            "target": checked(errors, "organisation_destinataire", self._target, row.get("organisation_destinataire")),
        }
        if errors:
            return None, errors
        values["target_organisation_id"] = values.pop("target").pk
        values["siao_departement"] = self.communes[values["commune_id"]]
        return values, []

    def key(self, values: dict):
        return values["siao_departement"], values["siao_reference"]

    def apply(self, line: int, values: dict):
        found = PreFlag.objects.filter(
            source=PreFlagSource.SIAO,
            siao_departement=values["siao_departement"],
            siao_reference=values["siao_reference"],
        ).first()
        if found is not None:
            if all(getattr(found, name) == values[name] for name in COMPARED):
                return "unchanged"
            return (
                "reference_siao",
                "orientation déjà importée avec d'autres valeurs : le pré-signalement existant "
                f"(n° {found.pk}) n'a pas été modifié",
            )
        preflag_receive(actor=self.actor, preflag=PreFlag(**values), reason=self.reason)
        return "created"
