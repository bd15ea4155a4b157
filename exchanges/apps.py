from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Imports et échanges"
    default_auto_field = "django.db.models.BigAutoField"
