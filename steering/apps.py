from django.apps import AppConfig


class SteeringConfig(AppConfig):
    name = "steering"
    verbose_name = "Pilotage du territoire"

    def ready(self):
        from . import signals  # noqa: F401  (app-loading order: connects the receivers once models are ready)
