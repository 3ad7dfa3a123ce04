"""Celery tasks: thin wrappers that take ids and call services."""

from celery import shared_task

from conversations import services


@shared_task
def reminder_send(reminder_id):
    return services.reminder_send(reminder_id=reminder_id)


@shared_task
def reminders_dispatch_due():
    """Every minute (beat): queue each due reminder. Claims make duplicates harmless."""
    services.reminders_mark_stale()
    ids = services.reminders_due_ids()
    for reminder_id in ids:
        reminder_send.delay(reminder_id)
    return len(ids)
