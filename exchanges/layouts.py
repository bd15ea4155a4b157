"""Declared file layouts of the exchanges with the State's tools and the SIAO: columns, types,
encoding, separator, version. The pages show them and the README documents them; a change of
columns is a new version (the old one stays readable until the partners have moved).

The official exchange formats of the State's priority-pool tool (SYPLO) and of the SIAO information
system (SI-SIAO) are not public: these layouts are the product's own, and each adapter
(exchanges.state_pool, exchanges.siao) reads and writes through its layout only, so a territory that
obtains the official format swaps the layout (and, if need be, the adapter) without touching the
cases.
"""

from dataclasses import dataclass

from . import readers


@dataclass(frozen=True)
class Column:
    header: str
    type: str  # texte, date (JJ/MM/AAAA), oui/non, code, liste (codes séparés par « | »)
    required: bool
    description: str


@dataclass(frozen=True)
class Layout:
    name: str
    version: str
    label: str
    columns: tuple
    delimiter: str = ";"
    encoding: str = "UTF-8 avec BOM (UTF-8 sans BOM ou Windows-1252 acceptés en lecture)"
    line_end: str = "CRLF"
    dates: str = "JJ/MM/AAAA"

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def check_header(self, header: list[str]) -> None:
        """A file whose header lacks a required column is refused as a whole (French message)."""
        missing = [c.header for c in self.columns if c.required and c.header not in header]
        if missing:
            raise readers.FileFormatError(
                f"Colonne(s) absente(s) du fichier pour le format {self.key} : {', '.join(missing)}."
            )


# Export of the labelled DALO and priority households of a territory, for the State's tool.
POOL_EXPORT = Layout(
    name="contingent-export",
    version="1",
    label="Ménages prioritaires et DALO labellisés (export vers l'outil de l'État)",
    columns=(
        Column("version_format", "texte", True, "Version du format : « 1 »."),
        Column("reference_dossier", "texte", True, "Référence du dossier dans l'application (PP-AAAA-NNNNNN)."),
        Column("nud", "texte", False, "Numéro unique de la demande (18 caractères) ; vide si non visible."),
        Column("nom", "texte", False, "Nom du demandeur ; vide si non visible."),
        Column("prenom", "texte", False, "Prénom du demandeur ; vide si non visible."),
        Column("date_naissance", "date", False, "Date de naissance du demandeur ; vide si non visible."),
        Column("commune_insee", "code", False, "Code INSEE de la commune actuelle ; vide si masqué (dossier protégé)."),
        Column("situation_logement", "code", False, "Situation de logement (code de l'application)."),
        Column("dalo", "oui/non", False, "Ménage reconnu prioritaire et urgent DALO."),
        Column("date_decision_comed", "date", False, "Date de la décision de la COMED (DALO)."),
        Column("date_limite_offre_dalo", "date", False, "Date limite d'offre DALO."),
        Column("labellise_le", "date", False, "Date de la labellisation en commission (vide : DALO seulement)."),
        Column("criteres", "liste", False, "Critères de priorité L441-1 CCH (codes séparés par « | »)."),
        Column("typologie_recommandee", "code", False, "Typologie recommandée par le diagnostic (T1 à T6)."),
        Column("reservataire_cible", "texte", False, "Réservataire cible déjà indiqué par la commission."),
        Column("dossier_protege", "oui/non", True, "Dossier protégé : adresse et contact ne sortent jamais."),
    ),
)

# Results of the State's tool brought back onto the cases.
POOL_RESULTS = Layout(
    name="contingent-resultats",
    version="1",
    label="Résultats de l'outil de l'État (désignations, attributions)",
    columns=(
        Column("nud", "texte", True, "Numéro unique de la demande du ménage (dossier ouvert du territoire)."),
        Column("type", "code", True, "« designation » (désignation sur un contingent) ou « attribution »."),
        Column("date", "date", True, "Date de la désignation ou de l'attribution (pas dans le futur)."),
        Column("siren_reservataire", "texte", True, "SIREN (9 chiffres) du réservataire du contingent."),
        Column("rpls_logement", "texte", False, "Identifiant RPLS du logement ; obligatoire pour une attribution."),
    ),
)

# Referrals (orientations) of the SIAO, imported as pre-flags.
SIAO_REFERRALS = Layout(
    name="siao-orientations",
    version="1",
    label="Orientations du SIAO (ménages sans abri ou hébergés)",
    columns=(
        Column("reference_siao", "texte", True, "Référence de l'orientation chez le SIAO (40 caractères au plus)."),
        Column("nom", "texte", True, "Nom de la personne orientée."),
        Column("prenom", "texte", True, "Prénom de la personne orientée."),
        Column("telephone", "texte", False, "Téléphone pour la rappeler."),
        Column("courriel", "texte", False, "Courriel pour la rappeler."),
        Column("commune_insee", "code", True, "Code INSEE de la commune où elle vit ou est hébergée."),
        Column("situation_logement", "code", True, "sans abri, hébergement, hébergé chez un tiers, hôtel…"),
        Column("criteres", "liste", False, "Critères L441-1 pouvant s'appliquer (codes séparés par « | »)."),
        Column("protection", "oui/non", False, "Protection du dossier conseillée (violences)."),
        Column("structure_orientatrice", "texte", True, "Nom de la structure qui oriente."),
        Column("siret_structure", "texte", False, "SIRET (14 chiffres) de la structure qui oriente."),
        Column("organisation_destinataire", "texte", True, "Organisation du travailleur social (nom exact ou SIREN)."),
    ),
)

ALL = (POOL_EXPORT, POOL_RESULTS, SIAO_REFERRALS)
