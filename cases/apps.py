from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Dossiers prioritaires"

    def ready(self):
        from . import audit  # noqa: F401  (registers the change-reason receiver)
