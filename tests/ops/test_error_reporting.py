"""Error reporting (sentry-sdk, SENTRY_DSN): what an event carries once scrubbed, through the real SDK."""

import pytest

sentry_sdk = pytest.importorskip("sentry_sdk")
from sentry_sdk.transport import Transport  # noqa: E402

from ops.errors import init_sentry  # noqa: E402


class Kept(Transport):
    events: list = []

    def capture_envelope(self, envelope):
        for item in envelope.items:
            if item.type == "event":
                Kept.events.append(item.payload.json)


def test_an_exception_is_sent_without_personal_data():
    # Personal data comes from the database, never from the source (whose lines the event quotes).
    name, email, nud = "Jea" + "nne Martin", "jea" + "nne.martin@example.org", "0831" + "23456789"
    init_sentry("https://public@sentry.example.org/1", transport=Kept)
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_user({"id": 7, "email": email})
            scope.add_breadcrumb(message=name, data={"nud": nud})
            household = {"name": name}  # noqa: F841  (a local variable: must not travel)
            try:
                raise ValueError(f"ménage {name} introuvable")
            except ValueError as exc:
                sentry_sdk.capture_exception(exc)
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    assert len(Kept.events) == 1
    event = Kept.events[0]
    assert name not in str(event) and email not in str(event) and nud not in str(event)
    assert event["exception"]["values"][0]["type"] == "ValueError"
    assert "user" not in event
