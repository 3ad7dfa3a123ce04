"""Celery tasks for turf: thin wrappers that take ids and call services."""

from celery import shared_task

from turf import imports
from turf.models import ImportJob


@shared_task
def import_job_run(import_job_id):
    """Run one voter-file import. A second delivery of the same job does nothing.

    The job is claimed (pending → running) before any work, so a redelivered
    task cannot import the file twice at once.
    """
    claimed = ImportJob.objects.filter(pk=import_job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING
    )
    if claimed != 1:
        return None
    job = ImportJob.objects.select_related("campaign", "created_by").get(pk=import_job_id)
    job = imports.import_job_run(job=job)
    return job.status
