from django.utils.functional import SimpleLazyObject

from permissions.policy import memberships_of

from .figures import STEERING_ROLES


def steering_nav(request):
    """Whether to show the "Pilotage" link (read from the memberships the pages load anyway)."""
    user = getattr(request, "user", None)

    def allowed():
        return bool(user and user.is_authenticated and any(g.role in STEERING_ROLES for g in memberships_of(user)))

    return {"steering_access": SimpleLazyObject(allowed)}
