from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes : connexion unique et second facteur"
    default_auto_field = "django.db.models.BigAutoField"
