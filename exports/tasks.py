"""Celery tasks for exports: thin wrappers that take ids and call services."""

from celery import shared_task

from exports.models import ExportJob


@shared_task
def export_job_run(export_job_id):
    """Write one large export. Claimed pending → running first: a redelivery does nothing."""
    from exports.services import export_run

    claimed = ExportJob.objects.filter(pk=export_job_id, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING
    )
    if claimed != 1:
        return None
    job = ExportJob.objects.select_related("campaign", "created_by").get(pk=export_job_id)
    return export_run(job=job).status


@shared_task
def export_jobs_sweep():
    """Beat: send again the export jobs whose publish was lost."""
    from exports.services import export_jobs_sweep as sweep

    return len(sweep())
