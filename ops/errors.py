"""Optional error reporting (sentry-sdk), on when SENTRY_DSN is set (config/settings/base.py).

No personal data leaves: the SDK collects none (no user, cookies, bodies, variables), and `scrub` drops what
an event may still carry (request bodies, query strings, headers but a few, local variables, log
messages' free text, breadcrumbs' data): the exception's type, module and line are what is sent.
"""

KEPT_HEADERS = {"User-Agent", "X-Request-Id", "Content-Type", "Accept"}


def scrub(event, hint=None):
    request = event.get("request")
    if request:
        event["request"] = {
            "method": request.get("method"),
            "url": (request.get("url") or "").split("?")[0],  # paths carry ids only (README, Layout)
            "headers": {k: v for k, v in (request.get("headers") or {}).items() if k.title() in KEPT_HEADERS},
        }
    event.pop("user", None)
    event.pop("extra", None)
    for exception in (event.get("exception") or {}).get("values", []):
        exception["value"] = ""  # messages may quote a name or an address
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    if "logentry" in event:
        event["logentry"] = {"message": (event["logentry"] or {}).get("message", "")}  # the format, not its values
    for crumb in (event.get("breadcrumbs") or {}).get("values", []):
        crumb.pop("data", None)
        crumb.pop("message", None)
    return event


def init_sentry(dsn: str, **options) -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        **options,
        # send_default_pii=False, as sentry-sdk 2.76 spells it (the old option is deprecated there):
        data_collection={
            "user_info": False,
            "http_bodies": [],
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=scrub,
        before_send_transaction=lambda event, hint: None,
    )
