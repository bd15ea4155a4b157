"""Audit records: the read log, the tamper-evident chain of audit entries, grant history.

Write history itself lives in each model's simple-history table (see cases/history.py).
"""

import hashlib
import json
from datetime import UTC

import simple_history
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermission, UserObjectPermission

from cases.history import HistoricalRecords

# Guardian grants decide who may act on a case at each step, so they are evidence too. They get a
# history table like every other audited model (rather than a separate grant log) so that one
# mechanism gives them who/when/why, the no-duplicate rule, the hash chain and the timeline.
simple_history.register(GroupObjectPermission, app="audit", records_class=HistoricalRecords)
simple_history.register(UserObjectPermission, app="audit", records_class=HistoricalRecords)


class Section(models.TextChoices):
    """Sensitive parts of a case whose opening is logged."""

    HEALTH = "health", _("Santé et handicap")
    VIOLENCE = "violence", _("Violences")
    NARRATIVE = "narrative", _("Évaluation sociale")
    DEBTS = "debts", _("Dettes")
    PROTECTED_CASE = "protected_case", _("Dossier protégé")
    HISTORY = "history", _("Historique du dossier")
    EVIDENCE_PACK = "evidence_pack", _("Export de l'historique (pièce justificative)")
    HOUSEHOLD = "household", _("Consultation par le ménage (mon dossier)")
    SUBJECT_ACCESS = "subject_access", _("Export des données du ménage (droit d'accès, art. 15 RGPD)")
    DOCUMENT = "document", _("Téléchargement d'un document du dossier")
    STATE_EXPORT = "state_export", _("Export vers l'outil de l'État (contingent prioritaire)")


class AccessLog(models.Model):
    """One opening of a sensitive section of a case. Append-only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("utilisateur")
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("dossier"))
    section = models.CharField(_("partie consultée"), max_length=20, choices=Section.choices)
    reason = models.TextField(_("motif d'accès exceptionnel"), blank=True)
    at = models.DateTimeField(_("consulté le"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("consultation")
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self):
        return f"{self.user_id} {self.get_section_display()} {self.case_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("AccessLog rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("AccessLog rows are append-only.")

    @property
    def is_break_glass(self) -> bool:
        return bool(self.reason)


GLOBAL_CHAIN = "global"


def chain_key(case_id) -> str:
    return f"case:{case_id}" if case_id else GLOBAL_CHAIN


def canonical_json(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class AuditEntry(models.Model):
    """One link of a case's hash chain: points at a history row or a read-log row.

    `row_digest` fixes the content of the row it points at; `hash` covers the entry and the
    previous entry's hash. Editing, deleting or inserting a row or an entry breaks the chain at
    that point (see audit/chain.py: verify_chain).
    """

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_constraint=False
    )
    source = models.CharField(max_length=100)  # model label of the pointed row
    source_id = models.CharField(max_length=64)
    action = models.CharField(max_length=8)  # + ~ - (history) or "read"
    actor_id = models.BigIntegerField(null=True, blank=True)  # plain id: the chain outlives accounts
    occurred_at = models.DateTimeField()
    row_digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("entrée d'audit")
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_entry_one_seq_per_chain"),
            models.UniqueConstraint(fields=["source", "source_id"], name="audit_entry_one_per_row"),
        ]

    def __str__(self):
        return f"{self.chain}#{self.seq}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("AuditEntry rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("AuditEntry rows are append-only.")

    def content(self) -> dict:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "case_id": self.case_id,
            "source": self.source,
            "source_id": str(self.source_id),
            "action": self.action,
            "actor_id": self.actor_id,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "row_digest": self.row_digest,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.content()).encode()).hexdigest()


class AuditChainHead(models.Model):
    """The last link of each chain: the row writers lock so two writers never fork a chain, and the
    reference that reveals a chain cut short at its end."""

    chain = models.CharField(max_length=40, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"{self.chain}@{self.seq}"


class Redaction(models.Model):
    """One history row scrubbed after the fact (anonymisation under a retention rule). Append-only.

    Keeps the digest the row had before (the one its audit entry fixed) and the digest it has now;
    an audit entry pointing at this redaction is chained after the row's own entry, so
    `audit.chain.verify_chain` accepts exactly this change of the row and nothing else.
    """

    source = models.CharField(max_length=100)  # model label of the scrubbed history row
    source_id = models.CharField(max_length=64)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_constraint=False
    )
    digest_before = models.CharField(max_length=64)
    digest_after = models.CharField(max_length=64)
    fields = models.TextField(blank=True)  # names of the scrubbed columns, comma-separated
    rule = models.CharField(max_length=100)  # e.g. "anonymisation: identity after 24 months"
    actor_id = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("anonymisation d'une ligne d'historique")
        indexes = [models.Index(fields=["source", "source_id"])]

    def __str__(self):
        return f"{self.source}#{self.source_id} ({self.rule})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("Redaction rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Redaction rows are append-only.")
