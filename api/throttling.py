"""API throttling (DRF): per client, and failed tokens per address.

Rates come from settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], read at each request (DRF's own
classes read them once at import). Counts live in the default cache: a shared one in production.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRate(SimpleRateThrottle):
    def get_rate(self):
        return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(self.scope)


class ClientRateThrottle(_SettingsRate):
    """Requests per API client (its token), whatever address it calls from."""

    scope = "api_client"

    def get_cache_key(self, request, view):
        client = request.auth
        if client is None or getattr(client, "pk", None) is None:
            return None  # unauthenticated: refused by the permission check before this counts
        return self.cache_format % {"scope": self.scope, "ident": client.pk}


class TokenFailureThrottle(_SettingsRate):
    """Failed token attempts per address. Past the rate, every token from that address is refused
    (even a right one) until the window has room again: guessing tokens gains nothing.

    Used by api.auth.ApiTokenAuthentication, which runs before DRF checks its throttles."""

    scope = "api_token_failure"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _load(self, request):
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()

    def blocked(self, request) -> bool:
        if self.rate is None:
            return False
        self._load(request)
        return len(self.history) >= self.num_requests

    def record_failure(self, request) -> None:
        if self.rate is None:
            return
        self._load(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
