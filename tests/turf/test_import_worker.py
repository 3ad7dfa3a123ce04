"""Imports on a real Celery worker: another process, started in another directory, reads
the upload through the storage; a worker killed mid-import is swept and the import
finished on a rerun without duplicates."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from canvass.celery import app
from tests.conversations.test_celery_worker import _forget, _purge, worker_env
from tests.factories import PASSWORD
from turf import tasks
from turf.imports import import_job_retry, import_jobs_sweep
from turf.models import Household, ImportJob, Person

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VAN_HEADER = "VANID,LastName,FirstName,Address,City,State,Zip5,Phone\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def turf_queue(transactional_db):
    queue = f"porchlight-test-{uuid.uuid4().hex[:12]}"
    previous = {
        "task_routes": app.conf.task_routes,
        "task_always_eager": app.conf.task_always_eager,
    }
    app.conf.update(task_always_eager=False, task_routes={"turf.tasks.*": {"queue": queue}})
    _purge(queue)
    try:
        yield queue
    finally:
        try:
            _forget(queue)
        finally:
            app.conf.update(**previous)


def start_worker(queue, tmp_path, media):
    """A worker whose working directory is not the web process's: only the storage joins them."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    env = worker_env(queue=queue, tmp_path=tmp_path, outbox_dir=tmp_path / "outbox")
    env["MEDIA_ROOT"] = str(media)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    log = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "canvass", "worker", "--pool=solo"]
    command += ["-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle"]
    command += ["--without-heartbeat", "--loglevel=INFO"]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=elsewhere, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return process, log


def wait_for(condition, what, log, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what}; worker log:\n{log.read_text(errors='replace')}")


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def upload_and_map(client, campaign, organizer, text):
    client.login(username=organizer.username, password=PASSWORD)
    client.post(
        reverse("import_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("van.csv", text.encode()), "preset": "van-export"},
    )
    job = ImportJob.objects.get(campaign=campaign)
    form = {"col_external_id": "0", "col_last_name": "1", "col_first_name": "2"}
    form.update(col_address="3", col_zip_code="6", has_header="1")
    response = client.post(reverse("import_map", args=[campaign.slug, job.pk]), form)
    assert response.status_code == 302
    return job


def test_worker_in_another_directory_reads_the_upload_through_the_storage(
    client, campaign, organizer, turf_queue, tmp_path, media
):
    process, log = start_worker(turf_queue, tmp_path, media)
    try:
        job = upload_and_map(
            client, campaign, organizer, VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,\n"
        )
        stored = media / job.file.name
        assert stored.is_file()
        wait_for(
            lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE,
            "the worker to finish the import",
            log,
        )
    finally:
        stop(process)
    assert Person.objects.get(campaign=campaign).household.address_key == "1 ELM ST 78702"
    job.refresh_from_db()
    # The upload is deleted once it is in; the report stays.
    assert not job.file and not stored.exists()


def test_killed_import_is_swept_and_finished_on_rerun_without_duplicates(
    client, campaign, organizer, turf_queue, tmp_path, media
):
    rows = 40_000
    text = VAN_HEADER + "".join(
        f"{i},Last{i},First{i},{i // 2 + 1} Elm St,A,TX,78702,\n" for i in range(1, rows + 1)
    )
    process, log = start_worker(turf_queue, tmp_path, media)
    try:
        job = upload_and_map(client, campaign, organizer, text)
        wait_for(
            lambda: ImportJob.objects.get(pk=job.pk).rows_done > 0,
            "the import to be part-way",
            log,
        )
        process.send_signal(signal.SIGKILL)  # the worker dies mid-import
        process.wait(timeout=10)
    finally:
        stop(process)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert not Person.objects.exists()  # one transaction: nothing half-written is visible
    assert import_jobs_sweep() == ([], [])  # still fresh: not swept yet

    failed, _ = import_jobs_sweep(now=timezone.now() + timedelta(minutes=11))
    assert failed == [job.pk]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "The worker running this import stopped" in job.error
    assert job.file  # kept for the rerun

    app.conf.task_always_eager = True  # the rerun, here
    try:
        import_job_retry(job=job, actor=organizer)
    finally:
        app.conf.task_always_eager = False
    job.refresh_from_db()
    if job.status != ImportJob.Status.DONE:
        assert tasks.import_job_run(job.pk) == ImportJob.Status.DONE
        job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    assert Person.objects.filter(campaign=campaign).count() == rows
    assert Household.objects.filter(campaign=campaign).count() == rows // 2 + 1
    # A second rerun of the same file duplicates nothing.
    assert tasks.import_job_run(job.pk) is None
