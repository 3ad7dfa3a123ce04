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
    if job.status == ImportJob.Status.DONE:
        # The file's doors without coordinates are located next, in their own job.
        from turf.geocoding.services import geocode_job_create

        geocode_job_create(campaign=job.campaign, created_by=job.created_by)
    return job.status


@shared_task
def import_jobs_sweep():
    """Beat: fail the imports whose worker died; send again those whose publish was lost."""
    failed, sent = imports.import_jobs_sweep()
    return len(failed) + len(sent)


@shared_task
def geocode_job_run(geocode_job_id):
    """Run one geocoding job. Claimed pending → running first: a redelivery does nothing."""
    from turf.geocoding.services import geocode_job_run as run
    from turf.models import GeocodeJob

    claimed = GeocodeJob.objects.filter(pk=geocode_job_id, status=GeocodeJob.Status.PENDING).update(
        status=GeocodeJob.Status.RUNNING
    )
    if claimed != 1:
        return None
    job = GeocodeJob.objects.select_related("campaign", "created_by").get(pk=geocode_job_id)
    return run(job=job).status


@shared_task
def geocode_jobs_sweep():
    """Beat: send again the geocoding jobs whose publish was lost."""
    from turf.geocoding.services import geocode_jobs_sweep as sweep

    return len(sweep())
