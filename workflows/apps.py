from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Parcours"

    def ready(self):
        # App-loading order: models must be ready first. Importing the services imports the flows (viewflow's
        # runtime permissions must exist when post_migrate runs) and connects the silence receiver.
        from . import services  # noqa: F401
