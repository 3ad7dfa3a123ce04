"""Voter-file imports: layouts, normalisation, bad rows, re-imports, the command and the pages."""

import csv
import io
import json
import random
import zipfile
from pathlib import Path

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from canvass.models import AuditEvent, Membership
from canvass.phones import phone_normalize
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from turf import imports, tasks
from turf.imports import (
    ImportFileError,
    RowError,
    address_parse,
    file_inspect,
    normalising,
    phone_for_import,
    voters_import,
    writing,
)
from turf.models import Household, ImportJob, ImportPreset, Person

VAN_HEADER = "VANID,LastName,FirstName,Address,City,State,Zip5,Phone\n"
# A county's headerless extract, mapped by position: id, last, first, middle, house number,
# street, unit, city, state, ZIP, phone, precinct.
BY_POSITION = {
    "external_id": 0,
    "last_name": 1,
    "first_name": 2,
    "house_number": 4,
    "street": 5,
    "unit": 6,
    "city": 7,
    "state": 8,
    "zip_code": 9,
    "phone": 10,
    "precinct": 11,
}


def _workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


WORKBOOK = _workbook()


def write(tmp_path, text, *, name="voters.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def people(campaign):
    return {p.external_id: p for p in Person.objects.filter(campaign=campaign)}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- Layouts --------------------------------------------------------------------


def test_van_export_with_header(campaign, tmp_path, organizer):
    path = write(
        tmp_path,
        VAN_HEADER
        + "1001,Garcia,Maria,123 N Main St Apt 4,Austin,TX,78702,(512) 555-0134\n"
        + "1002,Garcia,Jose,123 North Main Street Apt 4,Austin,TX,78702,\n"
        + '1003,"Smith, Jr.",Sam,9 Oak Ave,Austin,Texas,78702-1234,512.555.0188\n',
    )
    job = voters_import(campaign=campaign, path=path, preset="van-export", actor=organizer)

    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.rows_total, job.rows_imported, job.rows_failed) == (3, 3, 0)
    found = people(campaign)
    assert found["1001"].phone == "+15125550134"
    assert found["1002"].phone == ""
    assert found["1003"].last_name == "Smith, Jr."
    # "N Main St" and "North Main Street" are one door.
    assert found["1001"].household_id == found["1002"].household_id
    home = found["1001"].household
    # The household is written as the file's last row for that door spells it.
    assert (home.house_number, home.street, home.unit) == ("123", "North Main Street", "Apt 4")
    assert home.address_key == "123 N MAIN ST #4 78702"
    assert home.address_parts["name"] == "Main" and home.address_parts["unit"] == "4"
    oak = found["1003"].household
    assert (oak.state, oak.zip_code) == ("TX", "78702")
    assert job.households_created == 2 and job.people_created == 3


def test_nc_style_tab_delimited_latin1(campaign, tmp_path):
    header = "county_id\tncid\tlast_name\tfirst_name\tres_street_address\tres_city_desc\t"
    header += "state_cd\tzip_code\tfull_phone_number\tprecinct_abbrv\n"
    rows = "92\tBN123\tMUÑOZ\tJOSÉ\t15 ELM ST\tRALEIGH\tNC\t27601\t9195550101\tPR07\n"
    rows += "92\tBN124\tMUÑOZ\tANDRÉ\t15 ELM ST\tRALEIGH\tNC\t27601\t\tPR07\n"
    path = write(tmp_path, header + rows, encoding="latin-1")

    shape = file_inspect(path=path)
    assert (shape.encoding, shape.delimiter, shape.has_header) == ("latin-1", "\t", True)
    job = voters_import(campaign=campaign, path=path, preset="north-carolina")

    assert job.status == ImportJob.Status.DONE, job.error
    found = people(campaign)
    assert (found["BN123"].first_name, found["BN123"].last_name) == ("JOSÉ", "MUÑOZ")
    assert found["BN123"].phone == "+19195550101"
    assert found["BN124"].household.precinct == "PR07"
    assert Household.objects.filter(campaign=campaign).count() == 1


def test_headerless_pipe_extract_by_position(campaign, tmp_path):
    rows = "A1|Lee|Kim|J|200|W 5th St|2B|Austin|TX|78701|5125550142|P1\n"
    rows += "A2|Lee|Ann||200|W 5th St||Austin|TX|78701||P1\n"
    path = write(tmp_path, rows)

    shape = file_inspect(path=path)
    assert (shape.delimiter, shape.has_header, shape.columns) == ("|", False, 12)
    job = voters_import(campaign=campaign, path=path, column_mapping=BY_POSITION)

    assert job.status == ImportJob.Status.DONE, job.error
    found = people(campaign)
    assert found["A1"].household.unit == "2B"
    assert found["A1"].household.address_key == "200 W 5TH ST #2B 78701"
    # No unit: another door at the same building.
    assert found["A2"].household.unit == ""
    assert found["A1"].household_id != found["A2"].household_id


def test_comma_without_header_and_unquoted_apostrophes(campaign, tmp_path):
    rows = "X1,O'Brien,Pat,,12,Main St,,Austin,TX,78702,,P9\n"
    rows += 'X2,O"Neil,Sue,,14,Main St,,Austin,TX,78702,,P9\n'
    path = write(tmp_path, rows)

    job = voters_import(campaign=campaign, path=path, column_mapping=BY_POSITION)

    assert job.status == ImportJob.Status.DONE, job.error
    assert people(campaign)["X1"].last_name == "O'Brien"
    assert people(campaign)["X2"].last_name == 'O"Neil'


def test_columns_matched_by_header_names_without_preset(campaign, tmp_path):
    path = write(
        tmp_path,
        "Voter ID;First Name;Last Name;House Number;Street Name;Unit;City;ZIP\n"
        "V1;Ada;Byron;7;Rose Ct;;Austin;78702\n",
    )
    job = voters_import(campaign=campaign, path=path)

    assert job.status == ImportJob.Status.DONE, job.error
    person = people(campaign)["V1"]
    assert (person.first_name, person.household.street) == ("Ada", "Rose Ct")
    assert job.column_mapping["house_number"] == "House Number"


def test_utf8_with_bom_and_crlf(campaign, tmp_path):
    path = write(
        tmp_path,
        "\ufeff" + VAN_HEADER.replace("\n", "\r\n") + "1,Núñez,Eva,3 Elm St,A,TX,78702,\r\n",
    )
    job = voters_import(campaign=campaign, path=path, preset="van-export")
    assert job.status == ImportJob.Status.DONE, job.error
    assert people(campaign)["1"].last_name == "Núñez"


# --- Bad rows and unreadable files ----------------------------------------------


def test_bad_rows_reported_with_row_column_and_reason(campaign, tmp_path):
    lines = [
        VAN_HEADER.encode(),
        "1,Peña,Ana,1 Elm St,Austin,TX,78702,5125550100\n".encode(),
        b"2,Smith,Bo,2 Elm St,Austin,TX,78702,555-01\n",  # invalid phone: a warning
        b"3,Smith,Cy,,Austin,TX,78702,\n",  # no address
        b"4,Smith,Di,4 Elm St,Austin\n",  # wrong number of columns
        b"5,Sm\xe9th,Ed,5 Elm St,Austin,TX,78702,\n",  # Latin-1 byte in a UTF-8 file
        b"6,Smith,Flo,PO Box 12,Austin,TX,78702,\n",  # not a door
        b"\n",
        b"7,Smith,Gus,7 Elm St,Austin,TX,78702,\n",
        b"8,,,8 Elm St,Austin,TX,78702,\n",  # no name: not a person
    ]
    path = write(tmp_path, b"".join(lines))

    job = voters_import(campaign=campaign, path=path, preset="van-export")

    assert job.status == ImportJob.Status.DONE, job.error
    assert set(people(campaign)) == {"1", "2", "7"}
    assert job.rows_imported == 3 and job.rows_failed == 5 and job.rows_warned == 1
    report = {(e["row"], e["kind"]): e for e in job.error_report}
    assert report[3, "warning"]["column"] == "Phone"
    assert "not a valid phone number" in report[3, "warning"]["reason"]
    assert report[4, "refused"]["column"] == "Address"
    assert report[4, "refused"]["reason"] == "no address"
    assert report[5, "refused"]["reason"] == "wrong number of columns: expected 8, found 5"
    assert report[6, "refused"]["column"] == "LastName"
    assert "not valid UTF-8" in report[6, "refused"]["reason"]
    assert (
        report[7, "refused"]["column"] == "Address" and "PO box" in report[7, "refused"]["reason"]
    )
    assert report[10, "refused"]["reason"] == "no name"

    report_lines = list(imports.error_report_rows(job))
    assert report_lines[0] == ["row", "problem", "column", "reason", "value"]
    assert [(line[0], line[1]) for line in report_lines[1:]] == [
        (4, "refused"),
        (5, "refused"),
        (6, "refused"),
        (7, "refused"),
        (10, "refused"),
        (3, "imported without this value"),
    ]


def test_a_bad_phone_email_or_coordinate_keeps_the_person_without_it(campaign, tmp_path):
    path = write(
        tmp_path,
        "VANID,LastName,FirstName,Address,Zip5,Phone,Email,Latitude,Longitude\n"
        "1,Lee,Ann,1 Elm St,78702,555-01,ann@example.org,30.1,-97.7\n"
        "2,Lee,Bo,2 Elm St,78702,5125550100,not an email,north,-97.7\n"
        "3,Lee,Cy,3 Elm St,78702,5125550101,cy@example.org,30.1,-97.7\n",
    )
    job = voters_import(
        campaign=campaign,
        path=path,
        column_mapping={
            "external_id": "VANID",
            "last_name": "LastName",
            "first_name": "FirstName",
            "address": "Address",
            "zip_code": "Zip5",
            "phone": "Phone",
            "email": "Email",
            "lat": "Latitude",
            "lng": "Longitude",
        },
    )

    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.rows_imported, job.rows_failed, job.rows_warned) == (3, 0, 2)
    found = people(campaign)
    assert (found["1"].phone, found["1"].email) == ("", "ann@example.org")
    assert (found["2"].phone, found["2"].email) == ("+15125550100", "")
    assert found["2"].household.lat is None  # half a coordinate is no location
    assert found["3"].household.lat == pytest.approx(30.1)
    warnings = sorted((e["row"], e["column"]) for e in job.error_report)
    assert warnings == [(2, "Phone"), (3, "Email"), (3, "Latitude")]
    assert {e["kind"] for e in job.error_report} == {"warning"}


@pytest.mark.parametrize(
    ("line", "street", "unit"),
    [
        ("3394 US 420 HWY", "US 420 HWY", ""),
        ("577 1/2 CARDINAL GLEN RUN", "CARDINAL GLEN RUN", ""),
        ("1319 NC HWY 277 UNIT 398B", "NC HWY 277", "UNIT 398B"),
        ("7772 NC HWY 128 LOT 195", "NC HWY 128", "LOT 195"),
    ],
)
def test_rural_addresses_are_doors(campaign, tmp_path, line, street, unit):
    path = write(tmp_path, VAN_HEADER + f"1,Lee,Ann,{line},Snow Camp,NC,27349,\n")
    job = voters_import(campaign=campaign, path=path, preset="van-export")

    assert (job.rows_imported, job.rows_failed) == (1, 0), job.error_report
    household = people(campaign)["1"].household
    assert (household.street, household.unit) == (street, unit)


def test_rural_keys_spell_highway_alike_and_boxes_stay_refused():
    assert address_parse("3394 US 420 HIGHWAY").key_street == "3394 US 420 HWY"
    assert address_parse("577 1/2 CARDINAL GLEN RUN").house_number == "577 1/2"
    for box in ("PO BOX 12", "RR 2 BOX 45", "123 RR 2 BOX 45"):
        with pytest.raises(RowError, match="PO box"):
            address_parse(box)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"   \n\n", "The file is empty"),
        (random.Random(3).randbytes(4000), "binary data"),
        (WORKBOOK, "Save it as CSV"),
        (b"PK\x03\x04" + b"\x00" * 200, "The ZIP archive is damaged"),
        ("\ufeffname\n".encode("utf-16"), "UTF-16"),
        (b"just one column\nand another line\n", "every row is one single column"),
        (b"alpha,beta,gamma\nfoo,bar,baz\nqux,quux,corge\n", "None of the file's columns"),
        (b"VANID,FirstName,LastName\n1,Ann,Lee\n", "No column holds an address"),
    ],
)
def test_unreadable_file_writes_nothing(campaign, tmp_path, organizer, content, message):
    path = write(tmp_path, content)

    job = voters_import(campaign=campaign, path=path, actor=organizer)

    assert job.status == ImportJob.Status.FAILED
    assert message in job.error
    assert not Household.objects.exists() and not Person.objects.exists()
    event = AuditEvent.objects.get(action="voters.import_failed")
    assert event.actor == organizer and event.detail["error"] == job.error


def test_missing_file_is_one_clear_error(campaign, tmp_path):
    job = voters_import(campaign=campaign, path=tmp_path / "nope.csv")
    assert job.status == ImportJob.Status.FAILED
    assert "There is no file at" in job.error


def test_unknown_preset_is_one_clear_error(campaign, tmp_path):
    path = write(tmp_path, VAN_HEADER + "1,Lee,Ann,1 Elm St,Austin,TX,78702,\n")
    job = voters_import(campaign=campaign, path=path, preset="georgia")
    assert job.status == ImportJob.Status.FAILED
    assert "There is no preset called “georgia”" in job.error
    assert not Person.objects.exists()


# --- Re-imports and households ----------------------------------------------------


def test_reimport_updates_people_and_never_duplicates(campaign, tmp_path):
    first = write(
        tmp_path,
        VAN_HEADER
        + "1,Lee,Ann,1 Elm St,Austin,TX,78702,5125550101\n"
        + "2,Lee,Bob,1 Elm St,Austin,TX,78702,5125550102\n"
        + "3,Cho,Cal,9 Oak St,Austin,TX,78702,5125550103\n",
        name="first.csv",
    )
    voters_import(campaign=campaign, path=first, preset="van-export")
    again = voters_import(campaign=campaign, path=first, preset="van-export")
    assert (again.people_created, again.people_updated, again.households_created) == (0, 0, 0)
    assert Person.objects.filter(campaign=campaign).count() == 3

    updated = write(
        tmp_path,
        VAN_HEADER
        + "1,Lee-Park,Ann,1 Elm St,Austin,TX,78702,5125550199\n"  # new name and phone
        + "2,Lee,Bob,1 Elm St,Austin,TX,78702,\n"  # blank phone keeps the known one
        + "3,Cho,Cal,40 Pine St Unit 3,Austin,TX,78702,5125550103\n"  # moved
        + "4,Diaz,Dee,40 Pine St Unit 3,Austin,TX,78702,\n",  # new
        name="updated.csv",
    )
    job = voters_import(campaign=campaign, path=updated, preset="van-export")

    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.people_created, job.people_updated, job.households_created) == (1, 2, 1)
    found = people(campaign)
    assert len(found) == 4 and Person.objects.filter(campaign=campaign).count() == 4
    assert (found["1"].last_name, found["1"].phone) == ("Lee-Park", "+15125550199")
    assert found["2"].phone == "+15125550102"
    assert found["3"].household == found["4"].household
    assert found["3"].household.unit == "Unit 3"


def test_same_voter_twice_in_one_file_keeps_the_later_row(campaign, tmp_path):
    path = write(
        tmp_path,
        VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,\n" + "1,Lee,Annie,1 Elm St,A,TX,78702,\n",
    )
    job = voters_import(campaign=campaign, path=path, preset="van-export")
    assert job.status == ImportJob.Status.DONE, job.error
    assert list(Person.objects.values_list("first_name", flat=True)) == ["Annie"]


def test_people_without_voter_id_are_matched_by_name_and_household(campaign, tmp_path):
    path = write(
        tmp_path,
        "First Name,Last Name,Address,Zip\nAnn,Lee,1 Elm St,78702\nBob,Lee,1 Elm St,78702\n",
    )
    voters_import(campaign=campaign, path=path)
    job = voters_import(campaign=campaign, path=path)
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.people_created == 0
    assert Person.objects.filter(campaign=campaign).count() == 2


def test_households_grouped_by_normalised_address_units_kept(campaign, tmp_path):
    path = write(
        tmp_path,
        VAN_HEADER
        + "1,A,A,12 Oak St Apt 1,Austin,TX,78702,\n"
        + "2,B,B,12 OAK STREET APARTMENT 1,Austin,TX,78702,\n"
        + "3,C,C,12 Oak St #1,Austin,TX,78702,\n"
        + "4,D,D,12 Oak St Apt 2,Austin,TX,78702,\n"
        + "5,E,E,12 Oak St,Austin,TX,78702,\n"
        + "6,F,F,12 Oak St,Austin,TX,78745,\n",
    )
    job = voters_import(campaign=campaign, path=path, preset="van-export")

    assert job.status == ImportJob.Status.DONE, job.error
    found = people(campaign)
    assert found["1"].household == found["2"].household == found["3"].household
    assert len({found[k].household_id for k in "12345"} | {found["6"].household_id}) == 4
    # Units are kept, spelled as the file's last row for that door spells them.
    assert set(Household.objects.values_list("unit", flat=True)) == {"#1", "Apt 2", ""}


def test_other_campaigns_people_are_untouched(campaign, tmp_path):
    from tests.factories import CampaignFactory

    other = CampaignFactory()
    path = write(tmp_path, VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,\n")
    voters_import(campaign=other, path=path, preset="van-export")
    voters_import(campaign=campaign, path=path, preset="van-export")
    assert Person.objects.filter(external_id="1").count() == 2
    assert Household.objects.count() == 2


@pytest.mark.postgres
def test_postgres_copy_path_and_portable_path_agree(campaign, tmp_path):
    from tests.factories import CampaignFactory

    text = VAN_HEADER + "".join(
        f"{i},Last{i % 7},First{i},{i // 2 + 1} Elm St{' Apt 2' if i % 5 == 0 else ''},"
        f"Austin,TX,78702,{'5125550' + str(100 + i) if i % 3 else ''}\n"
        for i in range(1, 60)
    )
    path = write(tmp_path, text + "bad,row\n")
    other = CampaignFactory()
    fast = voters_import(campaign=campaign, path=path, preset="van-export")
    slow_job = imports.import_job_create(campaign=other, preset="van-export")
    slow = imports.import_job_run(job=slow_job, path=path, fast=False)

    def snapshot(c):
        return sorted(
            Person.objects.filter(campaign=c).values_list(
                "external_id", "first_name", "phone", "household__address_key", "household__unit"
            )
        )

    assert snapshot(campaign) == snapshot(other)
    for field in ("rows_imported", "rows_failed", "people_created", "households_created"):
        assert getattr(fast, field) == getattr(slow, field), field
    assert Household.objects.get(
        campaign=campaign, address_key="3 ELM ST #2 78702"
    ).address_parts == (
        Household.objects.get(campaign=other, address_key="3 ELM ST #2 78702").address_parts
    )


def test_every_import_writes_an_audit_event(campaign, tmp_path, organizer):
    path = write(
        tmp_path, VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,bad\n2,Lee,B,1 Elm St,A,TX,78702,\n"
    )
    job = voters_import(campaign=campaign, path=path, preset="van-export", actor=organizer)

    event = AuditEvent.objects.get(action="voters.import")
    assert event.campaign == campaign and event.actor == organizer
    assert str(job.pk) in event.target
    assert event.detail["imported"] == 2 and event.detail["failed"] == 0
    assert event.detail["warned"] == 1


# --- Normalisation: the fast paths agree with the libraries ---------------------


def _library_only(line):
    original = normalising._fast_tags
    normalising._fast_tags = lambda _line: None
    imports.address_parse.cache_clear()
    try:
        return imports.address_parse(line)
    except RowError as error:
        return error.reason
    finally:
        normalising._fast_tags = original
        imports.address_parse.cache_clear()


def test_fast_address_path_agrees_with_usaddress():
    rng = random.Random(11)
    names = ["Main", "Oak", "5th", "Martin Luther King", "Old Mill", "St James", "Lake Shore"]
    names += ["Park", "Garden", "Mill", "Hill", "Rose Garden", "Ave Maria", "County Road", "Dl"]
    names += ["Pine", "Shady Pine", "Old Orchard", "Lake View", "Spring Creek", "Cedar Ridge"]
    types = ["St", "Ave", "Rd", "Blvd", "Street", "Avenue", "Way", "Ct", "Pl", "Ln", "Dr", "Park"]
    types += ["Pkwy", "Trl", "Cir", "Ter", "Loop", "Hwy", "Sq"]
    checked = 0
    for _ in range(1500):
        line = f"{rng.randint(1, 9999)} {rng.choice(['', 'N ', 'South ', 'e '])}"
        line += f"{rng.choice(names)} {rng.choice(types)}{rng.choice(['', '', ' NW', ' s'])}"
        line += rng.choice(["", "", " Apt 4", " Unit 2B", " #12", " Ste 100", " APT 3C", " Lot 7"])
        if rng.random() < 0.3:
            line = line.upper()
        if normalising._fast_tags(line) is None:
            continue
        library = _library_only(line)
        if isinstance(library, str):
            continue  # usaddress found no street at all (it trips on "E 5TH ROAD"); ours did
        checked += 1
        imports.address_parse.cache_clear()
        fast = imports.address_parse(line)
        assert fast == library, line
        assert fast.parts == library.parts, line
    assert checked > 300  # the fast path takes the common shapes


@pytest.mark.parametrize(
    "line", ["123 Avenue B", "4 County Road 12", "77 Highway 9 N", "1 St James Pl", "5 Main"]
)
def test_odd_shapes_go_to_usaddress(line):
    assert normalising._fast_tags(line) is None
    parts = address_parse(line)
    assert parts.house_number == line.split()[0]


def test_fast_phone_path_agrees_with_phonenumbers():
    rng = random.Random(5)
    formats = ["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "1 {a} {b} {c}", "+1 {a}{b}{c}"]
    formats += ["{a}{b}{c}", "+{a}{b}{c}", "0{a}{b}{c}"]
    for _ in range(2000):
        raw = rng.choice(formats).format(
            a=rng.randint(100, 999), b=rng.randint(100, 999), c=f"{rng.randint(0, 9999):04d}"
        )
        try:
            expected = phone_normalize(raw, region="US")
        except ValidationError:
            expected = None
        try:
            got = phone_for_import(raw, "US")
        except RowError:
            got = None
        assert got == expected, raw


def test_phones_use_the_campaign_region(campaign, tmp_path):
    campaign.phone_region = "GB"
    campaign.save()
    path = write(tmp_path, VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,020 7946 0018\n")
    voters_import(campaign=campaign, path=path, preset="van-export")
    expected = phonenumbers.format_number(
        phonenumbers.parse("020 7946 0018", "GB"), phonenumbers.PhoneNumberFormat.E164
    )
    assert Person.objects.get().phone == expected == "+442079460018"


def test_header_detection(tmp_path):
    assert (
        file_inspect(path=write(tmp_path, "1,2 Elm St,78702\n2,3 Elm St,78702\n")).has_header
        is False
    )
    assert file_inspect(path=write(tmp_path, "id,addr,zip\n1,2 Elm St,78702\n")).has_header is True


def test_mapping_resolve_by_position_or_name(tmp_path):
    shape = file_inspect(path=write(tmp_path, VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,\n"))
    assert imports.mapping_resolve({"address": "address", "phone": 7, "last_name": 1}, shape) == {
        "address": 3,
        "phone": 7,
        "last_name": 1,
    }
    with pytest.raises(ImportFileError, match="No column holds an address"):
        imports.mapping_resolve({"phone": 7}, shape)
    with pytest.raises(ImportFileError, match="No column holds a name"):
        imports.mapping_resolve({"address": 3}, shape)


# --- The command ------------------------------------------------------------------


def test_import_voters_command(campaign, tmp_path, capsys):
    path = write(tmp_path, VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,\n2,Lee,B,,A,TX,78702,\n")
    out = io.StringIO()
    call_command(
        "import_voters",
        str(path),
        "--campaign",
        campaign.slug,
        "--preset",
        "van-export",
        stdout=out,
    )

    assert "Imported 1 of 2 rows" in out.getvalue()
    assert "row 3, Address: no address" in out.getvalue()
    assert "rows" in capsys.readouterr().err  # the progress bar
    assert Person.objects.filter(campaign=campaign).count() == 1


def test_import_voters_command_errors(campaign, tmp_path):
    with pytest.raises(CommandError, match="no campaign with the slug"):
        call_command("import_voters", "x.csv", "--campaign", "nope")
    junk = write(tmp_path, b"\x00\x01\x02" * 100)
    with pytest.raises(CommandError, match="binary data"):
        call_command("import_voters", str(junk), "--campaign", campaign.slug, "--no-progress")
    assert not Person.objects.exists()


# --- The organizer's pages --------------------------------------------------------


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_upload_map_progress_report_flow(
    client, campaign, organizer, tmp_path, django_capture_on_commit_callbacks
):
    _login(client, organizer)
    upload_url = reverse("import_upload", args=[campaign.slug])
    assert client.get(upload_url).status_code == 200
    text = VAN_HEADER + "1,Lee,Ann,1 Elm St,Austin,TX,78702,5125550101\n"
    text += "2,Lee,Bob,1 Elm St,Austin,TX,78702,12\n"
    response = client.post(
        upload_url,
        {"file": SimpleUploadedFile("van.csv", text.encode()), "preset": "van-export"},
    )
    job = ImportJob.objects.get(campaign=campaign)
    map_url = reverse("import_map", args=[campaign.slug, job.pk])
    assert response.status_code == 302 and response["Location"] == map_url

    page = client.get(map_url)
    assert page.status_code == 200
    assert b"1 Elm St" in page.content  # the sample rows
    assert page.context["form"]["col_address"].value() == ["3"]

    form = {f"col_{name}": "" for name in imports.FIELDS}
    form.update(col_external_id="0", col_first_name="2", col_last_name="1", col_address="3")
    form.update(col_zip_code="6", col_phone="7", has_header="1", save_as="Our VAN layout")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(map_url, form)
    detail_url = reverse("import_detail", args=[campaign.slug, job.pk])
    assert response.status_code == 302 and response["Location"] == detail_url
    assert len(callbacks) == 1  # the Celery task, sent after commit
    job.refresh_from_db()
    assert job.phase == ImportJob.Phase.QUEUED and job.column_mapping["address"] == "Address"
    assert ImportPreset.objects.get(campaign=campaign).column_mapping["phone"] == "Phone"

    status_url = reverse("import_status", args=[campaign.slug, job.pk])
    assert client.get(status_url).json()["status"] == "pending"
    assert client.get(detail_url).status_code == 200

    assert tasks.import_job_run(job.pk) == "done"
    assert tasks.import_job_run(job.pk) is None  # a redelivery does nothing

    status = client.get(status_url).json()
    assert status["status"] == "done" and status["rows_done"] == status["rows_total"] == 2
    assert (status["rows_imported"], status["rows_failed"], status["rows_warned"]) == (2, 0, 1)
    assert status["report_url"] == reverse("import_report", args=[campaign.slug, job.pk])
    assert b"Download the report" in client.get(detail_url).content

    report = client.get(status["report_url"])
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0] == ["row", "problem", "column", "reason", "value"]
    assert rows[1][:3] == ["3", "imported without this value", "Phone"]
    assert "not a valid phone number" in rows[1][3]
    assert AuditEvent.objects.filter(action="voters.import_report", actor=organizer).exists()
    assert dict(Person.objects.filter(campaign=campaign).values_list("first_name", "phone")) == {
        "Ann": "+15125550101",
        "Bob": "",
    }

    # The saved preset is offered next time.
    assert b"Our VAN layout" in client.get(upload_url).content
    # A finished job's mapping page sends you to its progress page.
    assert client.get(map_url)["Location"] == detail_url


def test_upload_of_unreadable_file_shows_the_error(client, campaign, organizer):
    _login(client, organizer)
    response = client.post(
        reverse("import_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("voters.xlsx", WORKBOOK), "preset": ""},
    )
    assert response.status_code == 400
    assert "Save it as CSV" in response.content.decode()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and not job.file
    assert not Person.objects.exists() and not Household.objects.exists()


def test_mapping_without_an_address_is_refused(client, campaign, organizer):
    _login(client, organizer)
    client.post(
        reverse("import_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("v.csv", (VAN_HEADER + "1,L,A,1 Elm St,A,TX,1,\n").encode())},
    )
    job = ImportJob.objects.get()
    form = {f"col_{name}": "" for name in imports.FIELDS}
    form.update(col_external_id="0", has_header="1")
    response = client.post(reverse("import_map", args=[campaign.slug, job.pk]), form)
    assert response.status_code == 400
    assert "No column holds an address" in response.content.decode()
    job.refresh_from_db()
    assert job.phase == ImportJob.Phase.MAPPING


def test_header_toggle_on_mapping_step(client, campaign, organizer):
    _login(client, organizer)
    client.post(
        reverse("import_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("v.csv", b"Name,Address\nAnn,1 Elm St\n")},
    )
    job = ImportJob.objects.get()
    page = client.get(reverse("import_map", args=[campaign.slug, job.pk]) + "?header=0")
    assert page.context["shape"].has_header is False
    assert len(page.context["shape"].sample) == 2


def test_saved_preset_works_from_the_command_line(campaign, tmp_path):
    imports.import_preset_save(
        campaign=campaign,
        name="county",
        has_header=False,
        column_mapping={"external_id": 0, "address": 1, "zip_code": 2, "last_name": 3},
    )
    path = write(tmp_path, "C1,5 Elm St,78702,Lee\n")
    call_command("import_voters", str(path), "--campaign", campaign.slug, "--preset", "county")
    assert Person.objects.get().household.address_key == "5 ELM ST 78702"
    with pytest.raises(ValidationError):
        imports.import_preset_save(
            campaign=campaign, name="van-export", has_header=True, column_mapping={}
        )


@pytest.fixture
def volunteer_user(campaign):
    user = UserFactory(username="vic")
    MembershipFactory(user=user, campaign=campaign, role=Membership.Role.VOLUNTEER)
    return user


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("field_lead", 403), ("volunteer_user", 403), ("outsider", 404), (None, 302)],
)
def test_only_organizers_reach_the_import_pages(client, campaign, request, persona, expected):
    job = ImportJob.objects.create(campaign=campaign, original_name="v.csv", rows_failed=1)
    if persona:
        _login(client, request.getfixturevalue(persona))
    names = ["import_detail", "import_map", "import_status", "import_report"]
    urls = [reverse("import_upload", args=[campaign.slug])]
    urls += [reverse(name, args=[campaign.slug, job.pk]) for name in names]
    for url in urls:
        assert client.get(url).status_code == expected, url
    response = client.post(urls[0], {"file": SimpleUploadedFile("v.csv", b"a,b\n1,2\n")})
    assert response.status_code == expected
    assert ImportJob.objects.count() == 1
    assert not AuditEvent.objects.filter(action="voters.import_report").exists()


def test_a_job_of_another_campaign_is_not_found(client, campaign, organizer):
    from tests.factories import CampaignFactory

    other = ImportJob.objects.create(campaign=CampaignFactory(), original_name="theirs.csv")
    _login(client, organizer)
    url = reverse("import_status", args=[campaign.slug, other.pk])
    assert client.get(url).status_code == 404


def test_status_json_while_running(client, campaign, organizer):
    job = ImportJob.objects.create(
        campaign=campaign,
        status=ImportJob.Status.RUNNING,
        phase=ImportJob.Phase.READING,
        rows_total=1000,
        rows_done=250,
    )
    _login(client, organizer)
    status = client.get(reverse("import_status", args=[campaign.slug, job.pk])).json()
    assert (status["rows_done"], status["rows_total"], status["phase"]) == (250, 1000, "reading")
    assert status["report_url"] == ""
    assert json.dumps(status)
    assert connection.vendor in ("sqlite", "postgresql")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pipelined_import_commits_once_and_fails_whole(campaign, tmp_path, monkeypatch):
    # Outside a transaction the merge runs on its own connection in a second thread.
    monkeypatch.setattr(writing, "COPY_CHUNK", 10)
    rows = "".join(
        f"{i},Last{i},First{i},{i // 2 + 1} Elm St,Austin,TX,78702,\n" for i in range(1, 36)
    )
    path = write(tmp_path, VAN_HEADER + rows, name="first.csv")
    job = voters_import(campaign=campaign, path=path, preset="van-export")
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.people_created, job.households_created) == (35, 18)
    again = voters_import(campaign=campaign, path=path, preset="van-export")
    assert (again.people_created, again.people_updated) == (0, 0)

    calls = []
    original = writing.PostgresWriter._merge_batch

    def fail_on_third(self, cursor, batch, counts):
        calls.append(len(batch))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        original(self, cursor, batch, counts)

    monkeypatch.setattr(writing.PostgresWriter, "_merge_batch", fail_on_third)
    rows = "".join(f"N{i},New,Person,{i} Oak St,Austin,TX,78702,\n" for i in range(1, 36))
    with pytest.raises(RuntimeError, match="disk full"):
        voters_import(
            campaign=campaign, path=write(tmp_path, VAN_HEADER + rows), preset="van-export"
        )
    assert not Person.objects.filter(external_id__startswith="N").exists()
    assert not Household.objects.filter(street="Oak St").exists()
    failed = ImportJob.objects.get(status=ImportJob.Status.FAILED)
    assert "disk full" in failed.error


# --- The package's stages ---------------------------------------------------------


def test_each_stage_imports_only_the_stages_before_it():
    # errors → presets → layouts → reading → normalising → writing → job: no cycle, and a
    # newcomer reading one stage never needs a later one.
    import ast
    from pathlib import Path

    order = ["errors", "presets", "layouts", "reading", "normalising", "writing", "job"]
    package = Path(imports.__file__).parent
    assert sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__") == sorted(order)
    for position, stage in enumerate(order):
        tree = ast.parse((package / f"{stage}.py").read_text())
        used = {
            node.module.removeprefix("turf.imports.")
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("turf.imports.")
        }
        assert used <= set(order[:position]), (stage, used)


def test_report_cells_cannot_run_as_formulas(client, campaign, organizer, tmp_path):
    path = write(tmp_path, VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,=HYPERLINK(1)\n")
    job = voters_import(campaign=campaign, path=path, preset="van-export")
    _login(client, organizer)
    report = client.get(reverse("import_report", args=[campaign.slug, job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[1][4] == "'=HYPERLINK(1)"
    assert "“'=HYPERLINK(1)”" not in rows[1][3] and rows[1][3].startswith("“=")


def test_command_summary_counts_refused_rows_and_warnings(campaign, tmp_path):
    path = write(
        tmp_path,
        VAN_HEADER + "1,Lee,Ann,1 Elm St,A,TX,78702,12\n2,Lee,Bo,,A,TX,78702,\n",
    )
    out = io.StringIO()
    call_command(
        "import_voters",
        str(path),
        "--campaign",
        campaign.slug,
        "--preset",
        "van-export",
        "--no-progress",
        stdout=out,
    )
    text = out.getvalue()
    assert "1 rows refused, 1 rows imported with a warning" in text
    assert "Refused rows:\n  row 3, Address: no address" in text
    assert "Warnings (imported without the value):\n  row 2, Phone:" in text


# --- Dead workers, lost publishes ---------------------------------------------------


def test_sweep_sends_a_queued_import_again_and_retry_needs_a_failed_job(
    campaign, tmp_path, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    job = imports.import_job_create(campaign=campaign, preset="van-export")
    ImportJob.objects.filter(pk=job.pk).update(phase=ImportJob.Phase.QUEUED)
    assert imports.import_jobs_sweep() == ([], [])
    with django_capture_on_commit_callbacks() as callbacks:
        later = timezone.now() + timedelta(minutes=11)
        assert imports.import_jobs_sweep(now=later) == ([], [job.pk])
    assert len(callbacks) == 1
    with pytest.raises(ValidationError, match="Only a failed import"):
        imports.import_job_retry(job=job)


# --- Input that must not break an import ------------------------------------------


def test_an_over_long_field_is_one_refused_row(campaign, tmp_path):
    huge = "x" * 131_073
    path = write(
        tmp_path,
        VAN_HEADER + f"1,{huge},Ann,1 Elm St,A,TX,78702,\n2,Lee,Bo,2 Elm St,A,TX,78702,\n",
    )
    job = voters_import(campaign=campaign, path=path, preset="van-export")
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.rows_imported, job.rows_failed) == (1, 1)
    assert job.error_report[0]["reason"] == "longer than 100 characters"
    assert len(job.error_report[0]["value"]) == 40


def test_a_line_of_many_megabytes_is_one_refused_row(campaign, tmp_path):
    path = tmp_path / "voters.csv"
    with open(path, "wb") as handle:
        handle.write(VAN_HEADER.encode())
        handle.write(b"1,Lee,Ann,1 Elm St,A,TX,78702,\n")
        handle.write(b"2,Lee," + b"y" * (5 << 20) + b",2 Elm St,A,TX,78702,\n")
        handle.write(b"3,Lee,Cy,3 Elm St,A,TX,78702,\n")
    job = voters_import(campaign=campaign, path=path, preset="van-export")
    assert job.status == ImportJob.Status.DONE, job.error
    assert set(people(campaign)) == {"1", "3"}
    assert job.error_report[0]["row"] == 3
    assert job.error_report[0]["reason"].startswith("line longer than 1 MiB")


def test_a_nul_byte_is_one_refused_row_not_a_lost_import(campaign, tmp_path):
    path = write(
        tmp_path,
        VAN_HEADER.encode()
        + b"1,Lee,Ann,1 Elm St,A,TX,78702,\n"
        + b"2,Le\x00e,Bo,2 Elm St,A,TX,78702,\n"
        + b"3,Lee,Cy,3 Elm St,A,TX,78702,\n",
    )
    job = voters_import(campaign=campaign, path=path, preset="van-export")
    assert job.status == ImportJob.Status.DONE, job.error
    assert set(people(campaign)) == {"1", "3"}
    assert [(e["row"], e["reason"]) for e in job.error_report] == [
        (3, "holds a NUL byte (binary data), not text")
    ]


def test_upload_over_the_size_limit_is_refused_with_the_limit(
    client, campaign, organizer, settings
):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    _login(client, organizer)
    url = reverse("import_upload", args=[campaign.slug])
    assert "Up to 1 MB" in client.get(url).content.decode()
    big = SimpleUploadedFile("v.csv", VAN_HEADER.encode() + b"x" * (2 << 20))
    response = client.post(url, {"file": big, "preset": ""})
    assert response.status_code == 400
    assert "uploads are limited to 1 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_upload_with_a_huge_field_and_a_nul_byte_gives_no_server_error(
    client, campaign, organizer
):
    _login(client, organizer)
    text = VAN_HEADER.encode() + b"1,Lee,Ann,1 Elm St,A,TX,78702,\n"
    text += (
        b"2,Lee," + b"z" * 200_000 + b",2 Elm St,A,TX,78702,\n" + b"3,L\x00,C,3 Elm St,A,TX,1,\n"
    )
    response = client.post(
        reverse("import_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("v.csv", text), "preset": "van-export"},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(reverse("import_map", args=[campaign.slug, job.pk]))
    assert page.status_code == 200


def test_upload_on_storage_without_local_paths_is_imported(
    client, campaign, organizer, monkeypatch
):
    # S3 has no local path: the worker streams a temporary copy through the storage API.
    from django.core.files.storage import InMemoryStorage

    monkeypatch.setattr(ImportJob._meta.get_field("file"), "storage", InMemoryStorage())
    _login(client, organizer)
    client.post(
        reverse("import_upload", args=[campaign.slug]),
        {
            "file": SimpleUploadedFile(
                "v.csv", (VAN_HEADER + "1,Lee,A,1 Elm St,A,TX,1,\n").encode()
            ),
            "preset": "van-export",
        },
    )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PENDING, job.error
    assert not Path(job.file.path).exists()  # not on this disk: only in the storage
    form = {f"col_{name}": "" for name in imports.FIELDS}
    form.update(col_external_id="0", col_last_name="1", col_address="3", has_header="1")
    client.post(reverse("import_map", args=[campaign.slug, job.pk]), form)
    assert tasks.import_job_run(job.pk) == "done"
    assert Person.objects.get().household.street == "Elm St"
    job.refresh_from_db()
    assert not job.file  # deleted from the storage once imported


def test_a_time_zone_column_gives_the_zone_they_live_in(campaign, tmp_path):
    path = write(
        tmp_path,
        "Voter ID,First Name,Last Name,Address,ZIP,Language,Time Zone\n"
        "T1,Ada,Byron,7 Rose Ct,78702,Spanish,America/Anchorage\n"
        "T2,Bo,Lee,8 Rose Ct,78702,,Mars/Olympus\n"
        "T3,Cy,Cho,9 Rose Ct,78702,,\n",
    )
    job = voters_import(campaign=campaign, path=path)

    assert job.status == ImportJob.Status.DONE, job.error
    assert job.column_mapping["timezone"] == "Time Zone"
    found = people(campaign)
    assert (found["T1"].timezone, found["T1"].language) == ("America/Anchorage", "Spanish")
    # A zone that is not one keeps the person without it, with a warning for the row.
    assert found["T2"].timezone == ""
    assert [(e["row"], e["column"], e["kind"]) for e in job.error_report] == [
        (3, "Time Zone", "warning")
    ]
    # A re-import with the cell blank keeps the zone an organizer or an earlier file gave.
    again = write(
        tmp_path,
        "Voter ID,First Name,Last Name,Address,ZIP,Time Zone\n"
        "T1,Ada,Byron,7 Rose Ct,78702,\n"
        "T3,Cy,Cho,9 Rose Ct,78702,Europe/London\n",
        name="again.csv",
    )
    assert voters_import(campaign=campaign, path=again).status == ImportJob.Status.DONE
    found = people(campaign)
    assert (found["T1"].timezone, found["T3"].timezone) == ("America/Anchorage", "Europe/London")
