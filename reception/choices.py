"""Reference lists of the reception network (shared/domain.md section 7). French labels are user-facing."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeskLevel(models.IntegerChoices):
    """The three service levels a desk commits to in the PPGDID."""

    INFORMATION = 1, _("Niveau 1 : information générale et orientation")
    REGISTRATION = 2, _("Niveau 2 : information et enregistrement des demandes")
    SUPPORT = 3, _("Niveau 3 : accompagnement personnalisé et instruction")


class Topic(models.TextChoices):
    """Topics of the shared information script and of the contacts recorded at the desks."""

    APPLY = "apply", _("Déposer une demande de logement social")
    RENEW = "renew", _("Renouveler sa demande")
    PRIORITY = "priority", _("Les critères de priorité")
    DALO = "dalo", _("Le droit au logement opposable (DALO)")
    ALLOCATION = "allocation", _("Comment les logements sont attribués et les délais")
    AFTER_OFFER = "after_offer", _("Après une proposition de logement")
    AFTER_REFUSAL = "after_refusal", _("Après un refus")
    FILE_STATUS = "file_status", _("Où en est mon dossier")


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("Sur place")
    PHONE = "phone", _("Téléphone")
    EMAIL = "email", _("Courriel")
    VIDEO = "video", _("Visio")


class PreFlagStatus(models.TextChoices):
    PENDING = "pending", _("À examiner")
    CONFIRMED = "confirmed", _("Confirmé : dossier ouvert")
    DECLINED = "declined", _("Décliné")


class PreFlagSource(models.TextChoices):
    DESK = "desk", _("Lieu d'accueil")
    SIAO = "siao", _("SIAO")


class CodeChannel(models.TextChoices):
    """Where the one-time code of the household's own view is sent."""

    EMAIL = "email", _("Courriel")
    SMS = "sms", _("SMS")
