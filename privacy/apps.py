from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Protection des données (conservation, anonymisation, droits des personnes)"
    default_auto_field = "django.db.models.BigAutoField"
