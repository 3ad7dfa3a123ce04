"""Never silent: the count check, the audit, and large exports in a worker with progress."""

import pytest
from django.db import connections, transaction
from django.urls import reverse

from canvass.models import AuditEvent
from exports import tasks
from exports.kinds.calls import FollowUpCalls
from exports.models import ExportJob
from exports.services import _Progress, export_jobs_sweep
from tests.exports.conftest import read_rows, run_export
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def drops_a_row(monkeypatch):
    """A fault between the query and the file: the last row never reaches the writer."""
    original = FollowUpCalls.rows

    def short(self, queryset, ctx, columns):
        rows = list(original(self, queryset, ctx, columns))
        yield from rows[:-1]

    monkeypatch.setattr(FollowUpCalls, "rows", short)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_file_that_would_be_short_is_an_error_not_a_file(
    campaign, organizer, doors, drops_a_row, fmt
):
    job = run_export(campaign, organizer, fmt=fmt)

    assert job.status == ExportJob.Status.FAILED
    assert job.error.startswith("The file came out with 1 rows but the filters match 2")
    assert not job.file
    event = AuditEvent.objects.get(action="export.failed")
    assert event.detail["rows"] == 0 and event.detail["error"] == job.error


def test_the_person_who_asked_sees_the_error(campaign, organizer, doors, drops_a_row, client):
    client.login(username="olivia", password=PASSWORD)
    response = client.post(
        reverse("export_new", args=[campaign.slug, "calls"]),
        {"col": ["first_name"], "format": "csv"},
        follow=True,
    )
    page = response.content.decode()
    assert 'role="alert"' in page and "The file came out with 1 rows" in page
    assert "Download the file" not in page
    job = ExportJob.objects.get()
    download = client.get(reverse("export_download", args=[campaign.slug, job.pk]))
    assert download.status_code == 404


def test_left_out_counts_that_do_not_add_up_fail_too(campaign, organizer, doors, monkeypatch):
    monkeypatch.setattr(FollowUpCalls, "left_out", lambda self, qs, c, f: {"do_not_contact": 0})

    job = run_export(campaign, organizer)

    assert job.status == ExportJob.Status.FAILED
    assert "do not add up" in job.error


def test_every_export_is_audited_and_organizers_see_the_list(
    campaign, organizer, field_lead, doors, client
):
    job = run_export(
        campaign, field_lead, fmt="xlsx", filters={"kind": "meeting"}, columns=["first_name"]
    )

    event = AuditEvent.objects.get(action="export")
    assert event.actor == field_lead
    assert event.campaign == campaign
    assert event.detail == {
        "job": job.pk,
        "kind": "calls",
        "format": "xlsx",
        "filters": {"kind": "meeting"},
        "columns": ["first_name"],
        "rows": 1,
        "left_out": {"do_not_contact": 1, "opted_out": 0, "no_consent": 1},
        "withheld": {},
        "include_sensitive": False,
        "error": "",
    }
    client.login(username="olivia", password=PASSWORD)
    page = client.get(reverse("export_index", args=[campaign.slug])).content.decode()
    assert "Export record" in page and "kind=meeting" in page and "do_not_contact: 1" in page
    client.login(username="farid", password=PASSWORD)
    page = client.get(reverse("export_index", args=[campaign.slug])).content.decode()
    assert "Export record" not in page

    client.get(reverse("export_download", args=[campaign.slug, job.pk]))
    assert AuditEvent.objects.filter(action="export.download", actor=field_lead).count() == 1


def test_a_large_export_runs_in_a_worker_with_progress_and_a_download_link(
    campaign, organizer, doors, settings, client, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_MAX_ROWS = 1
    client.login(username="olivia", password=PASSWORD)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("export_new", args=[campaign.slug, "calls"]),
            {"col": ["first_name"], "format": "xlsx"},
        )
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert job.status == ExportJob.Status.PENDING and job.rows_total == 2
    assert len(callbacks) == 1  # the task is sent once the job is committed
    status_url = reverse("export_job_status", args=[campaign.slug, job.pk])
    page = client.get(reverse("export_job", args=[campaign.slug, job.pk])).content.decode()
    assert '<progress id="export-progress" max="2" value="0">' in page
    assert client.get(status_url).json()["download_url"] == ""

    assert tasks.export_job_run(job.pk) == ExportJob.Status.DONE
    assert tasks.export_job_run(job.pk) is None  # a redelivery does nothing

    status = client.get(status_url).json()
    assert status["status"] == "done" and status["rows_done"] == 2
    assert status["download_url"] == reverse("export_download", args=[campaign.slug, job.pk])
    job.refresh_from_db()
    assert [row[0] for row in read_rows(job)][1:] == ["Ana", "'" + doors["evil"].person.first_name]


def test_the_sweep_sends_lost_jobs_again_and_fails_dead_ones(campaign, organizer, doors):
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(hours=1)
    lost = ExportJob.objects.create(campaign=campaign, kind="calls", rows_total=9, created_at=old)
    dead = ExportJob.objects.create(
        campaign=campaign, kind="calls", status=ExportJob.Status.RUNNING, created_by=organizer
    )
    ExportJob.objects.filter(pk=dead.pk).update(updated_at=old)

    assert export_jobs_sweep() == [lost.pk]
    dead.refresh_from_db()
    assert dead.status == ExportJob.Status.FAILED and "stopped" in dead.error
    assert AuditEvent.objects.filter(action="export.failed", actor=organizer).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_outside_the_exports_snapshot(campaign):
    job = ExportJob.objects.create(campaign=campaign, kind="calls")
    progress = _Progress(job.pk)
    try:
        with transaction.atomic():
            progress(4000)
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT rows_done FROM exports_exportjob WHERE id = %s", [job.pk]
                    )
                    assert cursor.fetchone() == (4000,)
            finally:
                other.close()
    finally:
        progress.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_test_transaction_the_export_reads_one_snapshot_and_checks_it(
    campaign, organizer, doors, drops_a_row
):
    # Here the export opens its own REPEATABLE READ transaction, as in production.
    job = run_export(campaign, organizer)
    assert job.status == ExportJob.Status.FAILED
    assert job.error.startswith("The file came out with 1 rows but the filters match 2")
    assert ExportJob.objects.get(pk=job.pk).rows_total == 2  # written from outside it


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_test_transaction_a_good_export_is_kept(campaign, organizer, doors):
    job = run_export(campaign, organizer, fmt="xlsx")
    assert job.status == ExportJob.Status.DONE, job.error
    assert len(read_rows(job)) == 3
