from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "documents"
    verbose_name = "Documents et courriers"

    def ready(self):
        # Deferred for Django's app-loading order: the receivers need the models.
        from . import signals  # noqa: F401
