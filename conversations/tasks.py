"""Celery tasks: thin wrappers that take ids and call services.

No task carries an ETA or countdown: when a reminder is due lives in its row,
and the every-minute dispatcher is what turns due rows into task messages.
"""

import logging

from celery import shared_task

from conversations.services import delivery

log = logging.getLogger(__name__)

# Ids per task message: fewer, larger messages cost Redis and the worker less,
# and a lost or half-done message only delays its rows until the next requeue.
SEND_CHUNK = 25


@shared_task
def reminder_send(reminder_id):
    return delivery.reminder_send(reminder_id=reminder_id)


@shared_task
def reminders_send(reminder_ids):
    """Send each of these reminders (one claim for the batch); returns how many it settled."""
    return len(delivery.reminders_send(reminder_ids=reminder_ids))


@shared_task
def reminders_dispatch_due():
    """Every minute (beat): settle crashed sends, then queue every due reminder.

    Rows are stamped "queued" before their message is published, so a second
    dispatcher skips them, and one whose message is lost (a Redis restart, a web
    process that died after its commit) is queued again REQUEUE_AFTER later.
    """
    resent, unknown = delivery.reminders_recover_stale()
    if resent or unknown:
        log.warning("stale sends: %s sent again, %s marked unknown", resent, unknown)
    queued = 0
    while True:
        ids = delivery.reminders_dispatch()
        for start in range(0, len(ids), SEND_CHUNK):
            reminders_send.delay(ids[start : start + SEND_CHUNK])
        queued += len(ids)
        if len(ids) < delivery.DISPATCH_BATCH:
            return queued


@shared_task
def retention_apply():
    """Daily (beat): each campaign's retention, then the finished imports' uploaded files."""
    from canvass.models import Campaign
    from conversations.services import lifecycle

    for campaign_id in Campaign.objects.values_list("pk", flat=True):
        campaign = Campaign.objects.get(pk=campaign_id)
        counts = lifecycle.campaign_retention_apply(campaign=campaign)
        if any(counts.values()):
            log.info("retention in %s: %s", campaign.slug, counts)
    return lifecycle.import_files_delete()
