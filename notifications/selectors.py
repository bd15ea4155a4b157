"""Which in-app notifications a user may see: their own, about no case or about a case still in their scope
(a case closed, passed down or lapsed out of it takes its notifications out of the list, the counts and the badge)."""

from django.db.models import Q

from permissions.policy import policy

from .models import Notification


def own_notifications(user):
    return Notification.objects.filter(recipient=user, channel=Notification.Channel.IN_APP).filter(
        Q(case__isnull=True) | Q(case__in=policy.queryset_for(user))
    )


def unread_count(user) -> int:
    return own_notifications(user).filter(read_at__isnull=True).count()
