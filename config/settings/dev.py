"""Embedded default: SQLite file, eager tasks, console e-mail, debug on."""

from .base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)  # noqa: F405
