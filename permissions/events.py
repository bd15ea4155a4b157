"""What the access model tells the layers above (notifications subscribe; nothing here imports them).

Sent inside the transaction of the change: a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

# A protected case was opened by exceptional access: kwargs case, actor, reason, event_id (the access row id).
break_glass_opened = Signal()
