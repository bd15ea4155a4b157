"""Request ids: every log line about a request (denials, reads) carries the same id as the response.

A trusted front proxy may pass `X-Request-ID`; anything that does not look like an id is replaced by a
fresh uuid, so a client cannot inject text into the logs.
"""

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_current: ContextVar[str | None] = ContextVar("ppgdid_request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request.request_id = given if _VALID.match(given) else uuid.uuid4().hex
        token = _current.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request.request_id
        return response
