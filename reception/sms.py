"""SMS sending for the household's one-time codes. The provider is a setting:

    PPGDID_SMS_BACKEND = "reception.sms.ConsoleBackend"   # default: prints (the demo)
    PPGDID_SMS_BACKEND = "reception.sms.FileBackend"      # one file per message in PPGDID_SMS_FILE_PATH
    PPGDID_SMS_BACKEND = "reception.sms.LocmemBackend"    # tests: reception.sms.outbox

A provider is a class with `send(number, text)`; a territory plugs its operator's API the same way.
"""

import sys
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

outbox: list[tuple[str, str]] = []


class ConsoleBackend:
    def send(self, number: str, text: str) -> None:
        sys.stdout.write(f"SMS à {number} : {text}\n")
        sys.stdout.flush()


class FileBackend:
    def send(self, number: str, text: str) -> None:
        folder = Path(getattr(settings, "PPGDID_SMS_FILE_PATH", "sent-sms"))
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now():%Y%m%d-%H%M%S-%f}.txt"
        (folder / name).write_text(f"À : {number}\n\n{text}\n", encoding="utf-8")


class LocmemBackend:
    def send(self, number: str, text: str) -> None:
        outbox.append((number, text))


def send_sms(number: str, text: str) -> None:
    backend = import_string(getattr(settings, "PPGDID_SMS_BACKEND", "reception.sms.ConsoleBackend"))
    backend().send(number, text)
