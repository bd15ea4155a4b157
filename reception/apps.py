from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    """The information half of the PPGDID: reception desks, shared script, commune figures,
    orientation at reception, and the household's own view of its case."""

    name = "reception"
    verbose_name = "Accueil et information des demandeurs"
