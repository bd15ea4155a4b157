"""The data categories of a case file (shared/visibility.md): the matrix, the read log and sharing name them."""

from django.utils.translation import gettext_lazy as _


class Category:
    IDENTITY = "identity"
    CONTACT = "contact"
    ADDRESS = "address"
    COMPOSITION = "composition"
    RESOURCES = "resources"
    DEBTS = "debts"
    HEALTH = "health"
    VIOLENCE = "violence"
    NARRATIVE = "narrative"
    SYNTHESIS = "synthesis"
    NEEDS = "needs"
    CRITERIA = "criteria"
    DECISIONS = "decisions"


CATEGORY_LABELS = {
    Category.IDENTITY: _("Identité"),
    Category.CONTACT: _("Coordonnées"),
    Category.ADDRESS: _("Adresse actuelle"),
    Category.COMPOSITION: _("Composition du ménage"),
    Category.RESOURCES: _("Ressources"),
    Category.DEBTS: _("Dettes"),
    Category.HEALTH: _("Santé et handicap"),
    Category.VIOLENCE: _("Violences"),
    Category.NARRATIVE: _("Évaluation sociale"),
    Category.SYNTHESIS: _("Synthèse pour la commission"),
    Category.NEEDS: _("Besoins en logement"),
    Category.CRITERIA: _("Critères de priorité"),
    Category.DECISIONS: _("Propositions et décisions"),
}
