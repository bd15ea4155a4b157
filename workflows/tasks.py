from celery import shared_task

from . import scan, services


@shared_task(acks_late=True)
def offers_sweep():
    """Celery beat entry (CELERY_BEAT_SCHEDULE): lapsed suspensive conditions."""
    return services.offers_sweep()


# Hourly; ~5 ms per open step when nothing is to be done, ~40 ms per step it arms (steps written
# outside the flow engine): longer limits than the default so a large first run is not cut short.
@shared_task(name="workflows.scan_deadlines", ignore_result=True, soft_time_limit=1500, time_limit=1620)
def scan_deadlines() -> dict:
    """Hourly safety net: DALO offer clocks, deadline timers armed and kept no later than due."""
    return scan.scan_deadlines()


# Timers fall due together at 07:00 and one look costs ~90 ms (~70 queries, notifications included):
# each run fires at most PPGDID_TIMERS_BATCH of them (scan.fire_due_timers), the longest due first, and
# the next minute's run the next ones. The limits stay above that batch's time on a busy machine. Each
# timer commits on its own, and viewflow re-checks each under its flow lock, so a run cut short or
# overlapping the next minute's run neither loses nor repeats a look.
@shared_task(name="workflows.fire_timers", ignore_result=True, soft_time_limit=540, time_limit=600)
def fire_workflow_timers() -> tuple:
    """viewflow's database-backed timers: the steps' deadline timers (.OnTimeout, flow.Timer) send the
    reminders and escalations and record silence worth refusal. One beat instance only."""
    return scan.fire_timers()
