from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Accès et habilitations"

    def ready(self):
        from .admin import register_organisation_admin  # app-loading order: the admin needs the models

        register_organisation_admin()
