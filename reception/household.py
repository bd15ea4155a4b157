"""The household's sign-in to its own view: file reference + personal access code, then a one-time
code sent by e-mail or SMS. No enumeration: a wrong code, an unknown file, a revoked or expired access
all get the same answer, after the same work (one password hash check). Rate-limited per client address
and per file reference (the cache: a shared one, Redis, when several processes serve the site).

The session holds the access id once the one-time code is right, for `SESSION_MINUTES`; every page
shown is recorded in the case's read log (audit.reads.log_read, acting as the system actor with the
section « consultation par le ménage »: the household has no account).
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import chained_at_end
from audit.models import Section
from audit.reads import log_read
from cases.audit import acting_as, system_actor

from .choices import CodeChannel
from .models import HouseholdAccess, OneTimeCode
from .services import normalise_code
from .sms import send_sms

log = logging.getLogger("ppgdid.access.household")

OTP_MINUTES = 10
OTP_ATTEMPTS = 5
SESSION_MINUTES = 30
WINDOW_SECONDS = 15 * 60
# Per client address and per file reference, within WINDOW_SECONDS (settings may change them).
LIMITS = {"address": 20, "reference": 5, "otp_sends": 3}
SESSION_KEY = "reception_household_access"
PENDING_KEY = "reception_household_pending"
_DUMMY_HASH = make_password("pas-un-code")


class TooManyAttempts(Exception):
    pass


def _limit(kind: str) -> int:
    return getattr(settings, "PPGDID_HOUSEHOLD_LIMITS", {}).get(kind, LIMITS[kind])


def _hit(kind: str, key: str) -> None:
    """Count one attempt; past the limit, refuse (for the rest of the window)."""
    # Hashed: any text typed in the form (or an address) makes a valid cache key, and stays out of the cache.
    name = f"reception:{kind}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"
    cache.add(name, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, WINDOW_SECONDS)
        count = 1
    if count > _limit(kind):
        log.warning("household sign-in throttled kind=%s", kind)
        raise TooManyAttempts


def case_pk_from_reference(reference: str) -> int | None:
    parts = (reference or "").strip().upper().split("-")
    if len(parts) == 3 and parts[0] == "PP" and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[2])
    return None


def identify(reference: str, code: str, address: str) -> HouseholdAccess | None:
    """The active access matching the reference and code, or None. Raises TooManyAttempts."""
    _hit("address", address or "-")
    normalised_ref = (reference or "").strip().upper()
    _hit("reference", normalised_ref or "-")
    case_pk = case_pk_from_reference(normalised_ref)
    now = timezone.now()
    candidates = []
    if case_pk is not None:
        candidates = [
            a
            for a in HouseholdAccess.objects.filter(case_id=case_pk, revoked_at__isnull=True, expires_at__gt=now)
            .select_related("case")
            .order_by("-created_at")[:5]
            if a.case.reference == normalised_ref
        ]
    code = normalise_code(code)
    found = None
    for item in candidates:
        if check_password(code, item.code_hash) and found is None:
            found = item
    if not candidates:
        check_password(code, _DUMMY_HASH)  # the same work whether the file exists or not
    return found


def send_one_time_code(item: HouseholdAccess) -> None:
    """Create a one-time code and send it on the access's channel (after commit)."""
    _hit("otp_sends", str(item.pk))
    code = f"{secrets.randbelow(1_000_000):06d}"
    OneTimeCode.objects.create(
        access=item, code_hash=make_password(code), expires_at=timezone.now() + timedelta(minutes=OTP_MINUTES)
    )
    text = _(
        "Votre code pour consulter votre dossier de ménage prioritaire : %(code)s. Il est valable %(minutes)s "
        "minutes. Ne le communiquez à personne."
    ) % {"code": code, "minutes": OTP_MINUTES}
    channel, destination = item.channel, item.destination

    def deliver():
        if channel == CodeChannel.EMAIL:
            send_mail(_("Votre code de connexion"), text, None, [destination])
        else:
            send_sms(destination, text)

    transaction.on_commit(deliver)


def start(request, reference: str, code: str, address: str) -> None:
    """Step 1. Whatever the result, the session gets a pending sign-in (so the next page is the same)."""
    item = identify(reference, code, address)
    request.session[PENDING_KEY] = {"access": item.pk if item else None}
    if item is not None:
        with transaction.atomic():
            send_one_time_code(item)


def verify(request, code: str) -> HouseholdAccess | None:
    """Step 2: the one-time code. Right: the access is signed in (new session key). Wrong: None."""
    pending = request.session.get(PENDING_KEY) or {}
    access_pk = pending.get("access")
    code = (code or "").strip()
    now = timezone.now()
    if access_pk is None:
        check_password(code, _DUMMY_HASH)
        return None
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(access_id=access_pk, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if otp is None or otp.attempts >= OTP_ATTEMPTS:
            check_password(code, _DUMMY_HASH)
            return None
        otp.attempts += 1
        if not check_password(code, otp.code_hash):
            otp.save(update_fields=["attempts"])
            return None
        otp.used_at = now
        otp.save(update_fields=["attempts", "used_at"])
        item = HouseholdAccess.objects.select_related("case").get(pk=access_pk)
        if not item.is_active_at(now):
            return None
        with acting_as(system_actor(), _("Connexion du ménage à son dossier")):
            item.last_signed_in_at = now
            item.save(update_fields=["last_signed_in_at"])
    request.session.cycle_key()
    request.session.pop(PENDING_KEY, None)
    request.session[SESSION_KEY] = {"access": item.pk, "until": (now + timedelta(minutes=SESSION_MINUTES)).timestamp()}
    return item


def signed_in_access(request) -> HouseholdAccess | None:
    """The access of the signed-in household, if its session, the access and the case still hold."""
    data = request.session.get(SESSION_KEY) or {}
    if not data.get("access") or not data.get("until"):
        return None
    now = timezone.now()
    if data["until"] < now.timestamp():
        request.session.pop(SESSION_KEY, None)
        return None
    item = (
        HouseholdAccess.objects.select_related("case", "case__household", "desk", "case__organisation")
        .filter(pk=data["access"])
        .first()
    )
    if item is None or not item.is_active_at(now):
        request.session.pop(SESSION_KEY, None)
        return None
    return item


def sign_out(request) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(PENDING_KEY, None)
    request.session.cycle_key()


def record_read(item: HouseholdAccess) -> None:
    """The household read its case: one line in the case's read log (and its chain)."""
    with transaction.atomic(), chained_at_end():
        # No reason: on the timeline a reason marks a break-the-glass access; the section says who read.
        log_read(system_actor(), item.case, Section.HOUSEHOLD)
