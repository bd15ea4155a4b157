"""Closing a test response without closing the test's database connection."""

from django.core import signals
from django.db import close_old_connections


def close_response(response) -> None:
    """Close a served file's response as the test client's own streaming wrapper does: HttpResponse.close()
    sends request_finished, whose close_old_connections would close the connection of the test's
    transaction on PostgreSQL (its autocommit differs from the settings), failing every later query."""
    signals.request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        signals.request_finished.connect(close_old_connections)
