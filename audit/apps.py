from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Traçabilité"

    def ready(self):
        # Signal receivers: audit entries for every history row and read, system actor in Celery tasks.
        from . import signals  # noqa: F401  (app-loading order: connects the receivers once models are ready)
