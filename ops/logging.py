"""Structured (JSON) log lines carrying the request id and the user id, never a name or an address.

Enable with PPGDID_LOG_FORMAT=json (config/settings/base.py); the formatter is python-json-logger's."""

import logging

from permissions.middleware import current_request_id

from .context import current_user_id


class RequestContextFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current_request_id() or "-"
        record.user_id = current_user_id()
        return True
