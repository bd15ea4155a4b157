from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitteesConfig(AppConfig):
    name = "committees"
    verbose_name = _("Commissions partenariales")
    default_auto_field = "django.db.models.BigAutoField"
