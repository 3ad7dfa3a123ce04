"""Celery tasks for shifts: thin wrappers that call services."""

import logging

from celery import shared_task

from canvass import services

log = logging.getLogger(__name__)


@shared_task
def shifts_no_show_sweep():
    """Every few minutes (beat): an hour after a shift ends, those never checked in are
    no-shows. Returns how many were marked."""
    marked = services.signups_no_show_sweep()
    if marked:
        log.info("no-show sweep: %s signups marked no-show", marked)
    return marked
