"""Domain events of the case records, sent by the layers above and heard by any layer."""

from django.dispatch import Signal

# Sent inside the transaction that anonymises a case (privacy retention). kwargs: case, rule.
case_anonymised = Signal()
