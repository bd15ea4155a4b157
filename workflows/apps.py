from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Parcours"

    def ready(self):
        # Import the flows so viewflow's runtime permissions exist when post_migrate runs.
        from . import flows  # noqa: F401
