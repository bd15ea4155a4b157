"""The signed-in user's id for the current request, for log lines (ops.logging)."""

from contextvars import ContextVar

_user_id: ContextVar[int | None] = ContextVar("ppgdid_user_id", default=None)


def current_user_id() -> int | None:
    return _user_id.get()


class UserIdMiddleware:
    """After AuthenticationMiddleware: remembers request.user.pk (the id only) for the log lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        token = _user_id.set(user.pk if user is not None and user.is_authenticated else None)
        try:
            return self.get_response(request)
        finally:
            _user_id.reset(token)
