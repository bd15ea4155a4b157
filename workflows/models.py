from django.conf import settings
from django.db import models
from viewflow.workflow.models import Process
from viewflow.workflow.status import STATUS

from cases.history import HistoricalRecords  # simple-history without identical consecutive rows

# A step still to be done (not done, cancelled or in error).
ACTIVE = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class CaseProcess(Process):
    """The viewflow process carrying one priority case through its steps."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="processes")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created"]  # MTI children do not inherit Process ordering
        verbose_name = "parcours"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def save(self, *args, **kwargs):
        # cases.history: a status other than the one read (the process row is locked by the transition)
        # cannot be the last history row's: no need to read that row (the process ending, for one).
        loaded = self.__dict__.get("_loaded_status")
        if loaded is not None and self.status != loaded:
            self._history_changed = True
        super().save(*args, **kwargs)
        self._loaded_status = self.status


class CommitteeDecisionSource:
    """What a committee decision must come from: a collective record (the committees package's session
    decision, or its closed written procedure). `services.committee_decide` accepts nothing else, so no
    member decides alone from the step. The workflow names the contract; the committees implement it."""

    def locked_for_decision(self, *, actor, case, kind: str):
        """This record re-read under a row lock if it may carry `actor`'s decision on `case` for `kind`
        now (not applied yet, still valid), else None."""
        raise NotImplementedError

    def attach_review(self, review) -> None:
        """Link the CommitteeReview the workflow wrote from this record, and save."""
        raise NotImplementedError


class StepHandover(models.Model):
    """One change of hands of a taken step: released, reassigned by a supervisor, or taken by the
    delegate of its holder. viewflow's Task keeps no history, so this record (with its history row,
    chained on the case's audit trail) says who did it, from whom to whom, and why."""

    class Kind(models.TextChoices):
        RELEASED = "released", "Étape libérée"
        REASSIGNED = "reassigned", "Étape réattribuée"
        DELEGATE_TOOK = "delegate_took", "Étape reprise par le remplaçant"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="step_handovers")
    task_id = models.BigIntegerField()
    node = models.CharField(max_length=30)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "changement de responsable d'étape"

    def __str__(self):
        return f"{self.get_kind_display()} ({self.node})"
