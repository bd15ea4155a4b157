"""Structured (JSON) log lines carrying the request id and the user id, never a name or an address.

Enable with PPGDID_LOG_FORMAT=json (config/settings/base.py); the formatter is python-json-logger's.

The access log (AccessLogMiddleware, logger "ppgdid.request") writes the method, the path, the status and
the time of each request, never its query string: a search term or a filter typed in a form must not reach
a log collector (issue 22). NoQueryStringFilter does the same, as defence in depth, to the lines of
Django's own loggers (runserver's "django.server", "django.request"), which carry the full URL.
"""

import logging
import re
import time

from permissions.middleware import current_request_id

from .context import current_user_id

access_log = logging.getLogger("ppgdid.request")

# "?..." up to a space or a quote: the query string of a URL inside a log message or its arguments.
_QUERY = re.compile(r"\?[^\s\"']*")


def without_query(text: str) -> str:
    return _QUERY.sub("", text)


class RequestContextFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current_request_id() or "-"
        record.user_id = current_user_id()
        return True


class NoQueryStringFilter(logging.Filter):
    """Strips query strings from a record's message and arguments, and drops the request object that
    Django attaches (a JSON formatter would print it, full URL included)."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = without_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(without_query(a) if isinstance(a, str) else a for a in record.args)
        if hasattr(record, "request"):
            record.request = "-"
        return True


class AccessLogMiddleware:
    """One line per request: method, path (no query string), status, milliseconds. Placed after
    UserIdMiddleware so the line carries the user id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        access_log.info(
            "request method=%s path=%s status=%s ms=%.1f",
            request.method,
            request.path,
            response.status_code,
            (time.perf_counter() - start) * 1000,
        )
        return response
