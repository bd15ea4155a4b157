from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Exploitation : santé, journaux, métriques"

    def ready(self):
        from . import metrics  # noqa: F401  (connects the Celery task signals, in workers too)
