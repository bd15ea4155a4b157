from .models import Notification


def unread_notifications(request):
    """Unread in-app notifications of the signed-in user, for the header (one COUNT query)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(
            recipient=user, channel=Notification.Channel.IN_APP, read_at__isnull=True
        ).count()
    }
