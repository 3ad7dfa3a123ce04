"""Bad input to the import pages: a clear 400, and nothing half-written left behind.

A 200 MB upload is streamed to the app as a browser sends it, chunk by chunk, so the test
never holds it whole.
"""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from turf import imports, tasks
from turf.models import ImportJob, ImportPreset, Person

pytestmark = pytest.mark.django_db

VAN_HEADER = b"VANID,LastName,FirstName,Address,City,State,Zip5,Phone\n"
BOUNDARY = "porchlight-test-boundary"
MB = 1 << 20


@pytest.fixture(autouse=True)
def _folders(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()


def _files_left(settings):
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] + list(
        settings.FILE_UPLOAD_TEMP_DIR.iterdir()
    )


class MultipartStream:
    """A multipart/form-data body made of byte strings and (bytes, count) repeats, read a
    piece at a time as a server reads a socket."""

    def __init__(self, fields, filename, file_parts):
        head = b""
        for name, value in fields.items():
            head += (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        self.parts = [(head, 1), *file_parts, (f"\r\n--{BOUNDARY}--\r\n".encode(), 1)]
        self.length = sum(len(chunk) * count for chunk, count in self.parts)
        self._pieces = (chunk for chunk, count in self.parts for _ in range(count))
        self._buffer = b""

    def read(self, size=-1):
        while size < 0 or len(self._buffer) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buffer += piece
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def readline(self, size=-1):  # WSGI asks for it; Django's parser reads in chunks
        return self.read(size)


def post_streamed(client, url, stream):
    environ = client._base_environ(
        PATH_INFO=url,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(stream.length),
        **{"wsgi.input": stream},
    )
    return client.handler(environ)


def a_file_with_a_200_mb_line():
    """Rows 1 and 3 are voters; row 2 is one line of 200 MB."""
    return [
        (VAN_HEADER + b"1,Lee,Ann,1 Elm St,Austin,TX,78702,\n", 1),
        (b"2,Lee,", 1),
        (b"y" * MB, 200),
        (b",2 Elm St,Austin,TX,78702,\n3,Lee,Cy,3 Elm St,Austin,TX,78702,\n", 1),
    ]


@pytest.fixture
def logged_in(organizer):
    client = Client(raise_request_exception=False)
    assert client.login(username=organizer.username, password=PASSWORD)
    return client


def test_a_200_mb_line_is_one_refused_row_and_the_upload_is_gone_after(
    logged_in, campaign, settings
):
    stream = MultipartStream({"preset": "van-export"}, "voters.csv", a_file_with_a_200_mb_line())
    assert stream.length > 200 * MB

    response = post_streamed(logged_in, reverse("import_upload", args=[campaign.slug]), stream)

    assert response.status_code == 302, response.content[:500]
    job = ImportJob.objects.get()
    page = logged_in.get(reverse("import_map", args=[campaign.slug, job.pk]))
    assert page.status_code == 200
    form = {f"col_{name}": "" for name in imports.FIELDS}
    form.update(col_external_id="0", col_last_name="1", col_first_name="2", col_address="3")
    form.update(col_zip_code="6", has_header="1")
    assert logged_in.post(
        reverse("import_map", args=[campaign.slug, job.pk]), form
    ).status_code == (302)

    assert tasks.import_job_run(job.pk) == "done"
    job.refresh_from_db()
    assert (job.rows_imported, job.rows_failed) == (2, 1)
    assert job.error_report[0]["row"] == 3
    assert job.error_report[0]["reason"].startswith("line longer than 1 MiB")
    assert len(job.error_report[0]["value"]) < 1000
    assert sorted(Person.objects.values_list("first_name", flat=True)) == ["Ann", "Cy"]
    # The uploaded file is deleted once imported; Django's temporary copy went with the request.
    assert not job.file
    assert _files_left(settings) == []


def test_an_upload_over_the_limit_is_a_400_that_leaves_no_job_and_no_file(
    logged_in, campaign, settings
):
    settings.IMPORT_MAX_UPLOAD_MB = 100
    url = reverse("import_upload", args=[campaign.slug])
    assert "Up to 100 MB" in logged_in.get(url).content.decode()
    stream = MultipartStream({"preset": "van-export"}, "voters.csv", a_file_with_a_200_mb_line())

    response = post_streamed(logged_in, url, stream)

    assert response.status_code == 400
    assert "uploads are limited to 100 MB" in response.content.decode()
    assert not ImportJob.objects.exists() and not Person.objects.exists()
    assert _files_left(settings) == []


def test_a_field_over_131072_characters_and_a_nul_byte_are_one_bad_row_each(
    logged_in, campaign, settings
):
    body = VAN_HEADER + b"1,Lee,Ann,1 Elm St,Austin,TX,78702,\n"
    body += b"2,Lee," + b"z" * 131_073 + b",2 Elm St,Austin,TX,78702,\n"
    body += b"3,L\x00e,Bo,3 Elm St,Austin,TX,78702,\n"
    body += b"4,Lee,Cy,4 Elm St,Austin,TX,78702,\n"
    stream = MultipartStream({"preset": "van-export"}, "voters.csv", [(body, 1)])

    response = post_streamed(logged_in, reverse("import_upload", args=[campaign.slug]), stream)

    assert response.status_code == 302, response.content[:500]
    job = ImportJob.objects.get()
    form = {f"col_{name}": "" for name in imports.FIELDS}
    form.update(col_external_id="0", col_last_name="1", col_first_name="2", col_address="3")
    form.update(has_header="1")
    logged_in.post(reverse("import_map", args=[campaign.slug, job.pk]), form)
    assert tasks.import_job_run(job.pk) == "done"
    job.refresh_from_db()
    assert (job.rows_imported, job.rows_failed) == (2, 2)
    assert [e["row"] for e in job.error_report] == [3, 4]
    assert sorted(Person.objects.values_list("first_name", flat=True)) == ["Ann", "Cy"]
    assert _files_left(settings) == []


@pytest.mark.parametrize(
    "name", ["van-export", "VAN-Export", " north-carolina ", "nc-voter-file", "x" * 61, "a\x00b"]
)
def test_a_mapping_saved_under_a_built_in_or_bad_name_is_a_400_and_saves_nothing(
    logged_in, campaign, name, django_capture_on_commit_callbacks
):
    logged_in.post(
        reverse("import_upload", args=[campaign.slug]),
        {"file": _upload(VAN_HEADER + b"1,Lee,Ann,1 Elm St,Austin,TX,78702,\n"), "preset": ""},
    )
    job = ImportJob.objects.get()
    form = {f"col_{name}": "" for name in imports.FIELDS}
    form.update(col_external_id="0", col_last_name="1", col_address="3", has_header="1")
    form["save_as"] = name

    with django_capture_on_commit_callbacks() as callbacks:
        response = logged_in.post(reverse("import_map", args=[campaign.slug, job.pk]), form)

    assert response.status_code == 400
    assert response.context["form"].errors["save_as"]
    assert not ImportPreset.objects.exists()
    job.refresh_from_db()
    assert job.phase == ImportJob.Phase.MAPPING and not callbacks
    # The built-in preset still means itself.
    assert imports.presets_for(campaign)["van-export"] is imports.PRESETS["van-export"]


def test_a_preset_of_the_campaigns_own_is_saved_as_before(campaign):
    saved = imports.import_preset_save(
        campaign=campaign, name="  County list ", has_header=True, column_mapping={"address": 3}
    )
    assert saved.name == "County list"


def _upload(content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("voters.csv", content)
