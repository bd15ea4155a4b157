from django.utils.functional import SimpleLazyObject

from .policy import memberships_of
from .roles import Role
from .services import can_manage_memberships


def role_menu(request):
    """The menu's role links: "Logements" for landlord agents, "Habilitations" for those who manage
    memberships (territory and system administrators). Lazy, and read from the memberships the
    pages load anyway: no query of its own on a page that already knows the user's roles."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)

    def landlord():
        return signed_in and (user.is_superuser or any(g.role == Role.LANDLORD_AGENT for g in memberships_of(user)))

    def admin():
        return signed_in and can_manage_memberships(user)

    return {"menu_dwellings": SimpleLazyObject(landlord), "menu_memberships": SimpleLazyObject(admin)}
