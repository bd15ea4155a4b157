from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Imports et échanges"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Deferred for Django's app-loading order: the receivers need the models.
        from . import signals  # noqa: F401
