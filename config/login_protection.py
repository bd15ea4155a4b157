"""Login protection around django-axes: what its log lines say, and the lockout page.

Logs carry no personal data: the username never appears in clear (the user id when the account
exists, else a short hash), the address is truncated (IPv4 /24, IPv6 /48), never the password.
"""

import hashlib
import ipaddress
import logging

from axes.helpers import get_client_username
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import render

from permissions.middleware import current_request_id

log = logging.getLogger("ppgdid.security.login")


def account_ref(username) -> str:
    """`user_id=12` for an existing account, else `account=<hash>`: enough to correlate lines, not to read."""
    if not username:
        return "account=-"
    user_id = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    if user_id is not None:
        return f"user_id={user_id}"
    return "account=" + hashlib.sha256(str(username).encode()).hexdigest()[:12]


def truncated_address(ip) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except (TypeError, ValueError):
        return "-"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def client_str(username, ip_address, user_agent, path_info, request) -> str:
    """AXES_CLIENT_STR_CALLABLE: what axes' own log lines say about the client."""
    path = path_info[0] if isinstance(path_info, list | tuple) else path_info
    return f"{{{account_ref(username)} address={truncated_address(ip_address)} path={path}}}"


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: log the lockout (ids only) and show the French page (429)."""
    username = get_client_username(request, credentials)
    log.warning(
        "login locked out %s address=%s request_id=%s",
        account_ref(username),
        truncated_address(getattr(request, "axes_ip_address", None)),
        current_request_id() or "-",
    )
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "registration/lockout.html", context, status=429)


def client_ip(request):
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, or behind PPGDID_PROXY_COUNT trusted reverse proxies the
    address the outermost one saw (the same rule as DRF's NUM_PROXIES for the API throttles)."""
    count = settings.PPGDID_PROXY_COUNT
    if count:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-min(count, len(forwarded))]
    return request.META.get("REMOTE_ADDR")
