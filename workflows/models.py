from django.db import models
from simple_history.models import HistoricalRecords
from viewflow.workflow.models import Process


class CaseProcess(Process):
    """The viewflow process carrying one priority case through its steps."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="processes")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created"]  # MTI children do not inherit Process ordering
        verbose_name = "parcours"
