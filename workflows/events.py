"""What the workflow tells the layers above. The services, the flow and the deadline rule send these
signals; notifications (and any later package) subscribe. Nothing here imports a subscriber.

Every signal is sent inside the transaction of the change it reports, so a receiver's writes (the
outbox rows) commit or roll back with it.
"""

from django.dispatch import Signal

# A human step of the case flow was created. kwargs: case, task.
step_opened = Signal()

# The household's reply deadline is near (territory's warning delay). kwargs: case, task, due.
reply_due_soon = Signal()

# A step is past its due date: level 1 (reminder), level 2 (escalation). kwargs: case, task, due, level,
# working_days_late.
step_overdue = Signal()

# The household's reply deadline has passed in silence: the reply service records it as a refusal and
# answers with the refused proposal (None when it is not this household's turn, or the step moved on).
# kwargs: case, today.
reply_silence_due = Signal()

# The household's silence past the deadline was recorded as a refusal. kwargs: case, proposal, due.
reply_silence_refusal = Signal()

# A DALO case's offer deadline (préfet) is `days_before` days away, 0 when passed. kwargs: case, days_before.
dalo_deadline = Signal()

# A case note names a colleague (@mention). kwargs: case, note, mentioned (the user named).
note_mentioned = Signal()
