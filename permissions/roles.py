from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RECEPTION = "reception", _("Agent d'accueil")
    SOCIAL_WORKER = "social_worker", _("Travailleur social")
    SUPERVISOR = "supervisor", _("Encadrant de travail social")
    COMMISSION_MEMBER = "commission_member", _("Membre de commission")
    COMMISSION_CHAIR = "commission_chair", _("Président ou secrétaire de commission")
    LANDLORD_AGENT = "landlord_agent", _("Agent bailleur")
    RESERVATAIRE_AGENT = "reservataire_agent", _("Agent réservataire")
    TERRITORY_ADMIN = "territory_admin", _("Administrateur de territoire")
    AUDITOR = "auditor", _("Auditeur (délégué à la protection des données)")
    SYSTEM_ADMIN = "system_admin", _("Administrateur système")
    # Runs the territory's reception network (PPGDID information half): desks, shared script, statistics.
    NETWORK_HEAD = "network_head", _("Tête de réseau de l'accueil")
    # Issue 22 (privacy app): answers the households' data requests for its organisation; no case
    # scope through the policy (privacy.access gives it the art. 15 export and the DPO pages only).
    DPO = "dpo", _("Délégué à la protection des données")


COMMISSION_ROLES = (Role.COMMISSION_MEMBER, Role.COMMISSION_CHAIR)
SOCIAL_WORK_ROLES = (Role.SOCIAL_WORKER, Role.SUPERVISOR)
