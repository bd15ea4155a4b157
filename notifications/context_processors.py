from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def unread_notifications(request):
    """Unread in-app notifications of the signed-in user for the header badge, counted like the centre's list
    (never a case out of the user's scope). Lazy: counted once, only where a template shows it,
    and a page that already counted them passes its own ``unread_notifications``."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
