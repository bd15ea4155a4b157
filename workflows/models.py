from django.db import models
from viewflow.workflow.models import Process

from cases.history import HistoricalRecords  # simple-history without identical consecutive rows


class CaseProcess(Process):
    """The viewflow process carrying one priority case through its steps."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="processes")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created"]  # MTI children do not inherit Process ordering
        verbose_name = "parcours"
