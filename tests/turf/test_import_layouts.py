"""The layouts states publish, each on a small generated file: columns, voter status,
extra fields kept, rows left out; archives; the command line's --map and --dry-run."""

import gzip
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from turf.imports import voters_import
from turf.imports.presets import FL_COLUMNS, MI_FIELDS, NC_COLUMNS, OH_COLUMNS, PA_COLUMNS
from turf.models import Household, ImportJob, Person


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def people(campaign):
    return {p.external_id: p for p in Person.objects.filter(campaign=campaign)}


def row_of(columns, **values):
    """One row in a layout: every column blank but the ones given (by column name)."""
    unknown = set(values) - set(columns)
    assert not unknown, unknown
    return [values.get(name, "") for name in columns]


def tsv(rows, header=None):
    lines = (["\t".join(header)] if header else []) + ["\t".join(row) for row in rows]
    return "\n".join(lines) + "\n"


def nc_row(ncid, last, first, address, status="A", party="UNA", **more):
    return row_of(
        NC_COLUMNS,
        county_id="92",
        county_desc="WAKE",
        ncid=ncid,
        last_name=last,
        first_name=first,
        status_cd=status,
        res_street_address=address,
        res_city_desc="RALEIGH",
        state_cd="NC",
        zip_code="27601",
        party_cd=party,
        birth_year="1990",
        precinct_abbrv="12",
        **more,
    )


def test_north_carolina_statewide_file(campaign, tmp_path):
    rows = [
        nc_row("AA1", "MUÑOZ", "JOSÉ", "3394 US 420 HWY", full_phone_number="9195550101"),
        nc_row("AA2", "LEE", "ANN", "15 ELM ST", status="I", party="DEM"),
        nc_row("AA3", "GONE", "GARY", "16 ELM ST", status="R"),
        nc_row("AA4", "NOPE", "NED", "17 ELM ST", status="D"),
        nc_row("AA5", "RURAL", "RITA", "7772 NC HWY 128 LOT 195", full_phone_number="555"),
    ]
    path = tmp_path / "ncvoter92.txt"
    path.write_bytes(tsv(rows, header=NC_COLUMNS).encode("latin-1"))

    job = voters_import(campaign=campaign, path=path, preset="north-carolina")

    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.encoding, job.delimiter) == ("latin-1", "\t")
    assert (job.rows_imported, job.rows_failed, job.rows_warned) == (3, 0, 1)
    assert job.rows_left_out == 2
    assert job.left_out == {"voter status removed": 1, "voter status denied": 1}
    found = people(campaign)
    assert set(found) == {"AA1", "AA2", "AA5"}
    jose = found["AA1"]
    assert (jose.first_name, jose.phone, jose.voter_status) == ("JOSÉ", "+19195550101", "active")
    # The columns with no Porchlight field are kept, by their names.
    assert jose.extra["party_cd"] == "UNA" and jose.extra["birth_year"] == "1990"
    assert jose.extra["county_desc"] == "WAKE" and "ncid" not in jose.extra
    assert found["AA2"].voter_status == "inactive" and found["AA2"].inactive_since
    assert found["AA5"].phone == "" and found["AA5"].household.unit == "LOT 195"


def fl_row(voter_id, last, first, address, exempt="N", area="", number="", status="ACT"):
    return row_of(
        FL_COLUMNS,
        **{
            "County Code": "ALA",
            "Voter ID": voter_id,
            "Name Last": last,
            "Name First": first,
            "Requested public records exemption": exempt,
            "Residence Address Line 1": address,
            "Residence City (USPS)": "GAINESVILLE",
            "Residence State": "FL",
            "Residence Zipcode": "32601",
            "Party Affiliation": "NPA",
            "Precinct": "12",
            "Voter Status": status,
            "Daytime Area Code": area,
            "Daytime Phone Number": number,
        },
    )


def test_florida_county_extract(campaign, tmp_path):
    rows = [
        fl_row("100", "Diaz", "Rosa", "12 NW 5th Ave", area="352", number="5550142"),
        fl_row("101", "Hidden", "Hal", "14 NW 5th Ave", exempt="Y"),
        fl_row("102", "Page", "Pat", "16 NW 5th Ave", status="INA"),
    ]
    path = tmp_path / "ALA_20240101.txt"
    path.write_text(tsv(rows))

    job = voters_import(campaign=campaign, path=path, preset="florida")

    assert job.status == ImportJob.Status.DONE, job.error
    assert job.has_header is False and job.rows_imported == 2
    assert job.left_out == {"public-records exemption": 1}
    found = people(campaign)
    assert set(found) == {"100", "102"}
    # The phone is two columns: area code and number.
    assert found["100"].phone == "+13525550142"
    assert found["100"].extra["Party Affiliation"] == "NPA"
    assert found["102"].voter_status == "inactive"


def test_ohio_statewide_file_keeps_vote_history(campaign, tmp_path):
    header = [*OH_COLUMNS, "PRIMARY-03/15/2016", "GENERAL-11/08/2016"]

    def oh(voter_id, status, history):
        return row_of(
            OH_COLUMNS,
            SOS_VOTERID=voter_id,
            LAST_NAME="BROWN",
            FIRST_NAME="ALEX",
            VOTER_STATUS=status,
            PARTY_AFFILIATION="D",
            RESIDENTIAL_ADDRESS1="55 HIGH ST",
            RESIDENTIAL_SECONDARY_ADDR="APT 2",
            RESIDENTIAL_CITY="COLUMBUS",
            RESIDENTIAL_STATE="OH",
            RESIDENTIAL_ZIP="43215",
            PRECINCT_NAME="COLUMBUS 1-A",
        ) + list(history)

    text = ",".join(header) + "\n"
    text += ",".join(oh("OH1", "ACTIVE", ["D", "X"])) + "\n"
    text += ",".join(oh("OH2", "CONFIRMATION", ["", ""])) + "\n"
    path = tmp_path / "SWVF_1_22.txt"
    path.write_text(text)

    job = voters_import(campaign=campaign, path=path, preset="ohio")

    assert job.status == ImportJob.Status.DONE, job.error
    found = people(campaign)
    assert found["OH1"].household.unit == "APT 2"
    assert found["OH1"].extra["GENERAL-11/08/2016"] == "X"
    assert found["OH2"].voter_status == "inactive"
    assert "GENERAL-11/08/2016" not in found["OH2"].extra  # blank cells are not kept


def test_pennsylvania_fve_county_file(campaign, tmp_path):
    def pa(voter_id, number, suffix, street, apt, status="A"):
        return row_of(
            PA_COLUMNS,
            **{
                "ID Number": voter_id,
                "Last Name": "KOWALSKI",
                "First Name": "ANNA",
                "Voter Status": status,
                "Party Code": "R",
                "House Number": number,
                "House Number Suffix": suffix,
                "Street Name": street,
                "Apartment Number": apt,
                "City": "PITTSBURGH",
                "State": "PA",
                "Zip": "15213",
                "Precinct Code": "1301",
                "District 1": "18",
                "Home Phone": "(412) 555-0199",
            },
        )

    path = tmp_path / "ALLEGHENY FVE 20240101.txt"
    path.write_text(
        tsv([pa("PA1", "301", "1/2", "S CRAIG ST", "4B"), pa("PA2", "12", "", "FORBES AVE", "")])
    )

    job = voters_import(campaign=campaign, path=path, preset="pennsylvania")

    assert job.status == ImportJob.Status.DONE, job.error
    found = people(campaign)
    home = found["PA1"].household
    assert (home.house_number, home.street, home.unit) == ("301 1/2", "S CRAIG ST", "4B")
    assert found["PA1"].phone == "+14125550199"
    assert found["PA1"].extra["District 1"] == "18" and found["PA1"].extra["Party Code"] == "R"


def mi_line(**values):
    line = [" "] * MI_FIELDS[-1][2]
    for name, start, end in MI_FIELDS:
        value = values.get(name, "")
        assert len(value) <= end - start, name
        line[start : start + len(value)] = value
    return "".join(line).rstrip() + "\n"


def test_michigan_fixed_width_file(campaign, tmp_path):
    common = {"CITY": "LANSING", "STATE": "MI", "ZIP": "48933", "WARD_PRECINCT": "010003"}
    text = mi_line(
        LAST_NAME="NOWAK",
        FIRST_NAME="EVA",
        BIRTH_YEAR="1971",
        RESIDENCE_STREET_NUMBER="120",
        PRE_DIRECTION="W",
        STREET_NAME="MICHIGAN",
        STREET_TYPE="AVE",
        RESIDENCE_EXTENSION="APT 3",
        VOTER_ID="1000001",
        STATUS_TYPE="A",
        **common,
    )
    text += mi_line(
        LAST_NAME="CANCEL",
        FIRST_NAME="CAL",
        RESIDENCE_STREET_NUMBER="122",
        STREET_NAME="MICHIGAN",
        STREET_TYPE="AVE",
        VOTER_ID="1000002",
        STATUS_TYPE="C",
        **common,
    )
    path = tmp_path / "entire_state_v.lst"
    path.write_text(text)

    job = voters_import(campaign=campaign, path=path, preset="michigan")

    assert job.status == ImportJob.Status.DONE, job.error
    assert job.delimiter == "" and job.rows_left_out == 1
    eva = people(campaign)["1000001"]
    assert (eva.first_name, eva.last_name) == ("EVA", "NOWAK")
    assert (eva.household.street, eva.household.unit) == ("W MICHIGAN AVE", "APT 3")
    assert eva.household.address_key == "120 W MICHIGAN AVE #3 48933"
    assert eva.extra["BIRTH_YEAR"] == "1971"


# --- Archives -----------------------------------------------------------------------


def test_zip_with_one_file_per_county_imports_every_member(campaign, tmp_path):
    path = tmp_path / "ncvoter_Statewide.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for county, start in [("ncvoter1.txt", 1), ("ncvoter2.txt", 10)]:
            rows = [
                nc_row(f"Z{start + i}", "LEE", f"P{i}", f"{start + i} OAK ST") for i in range(3)
            ]
            rows.append(nc_row(f"Z{start + 3}", "LEE", "X", ""))  # no address: refused
            archive.writestr(county, tsv(rows, header=NC_COLUMNS))

    job = voters_import(campaign=campaign, path=path, preset="north-carolina")

    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.rows_total, job.rows_imported, job.rows_failed) == (8, 6, 2)
    assert len(people(campaign)) == 6
    assert sorted((e["file"], e["row"]) for e in job.error_report) == [
        ("ncvoter1.txt", 5),
        ("ncvoter2.txt", 5),
    ]


def test_gzipped_file_is_read_as_it_comes(campaign, tmp_path):
    path = tmp_path / "voters.csv.gz"
    text = "VANID,LastName,FirstName,Address,Zip5\n1,Lee,Ann,1 Elm St,78702\n"
    path.write_bytes(gzip.compress(text.encode()))
    job = voters_import(campaign=campaign, path=path, preset="van-export")
    assert job.status == ImportJob.Status.DONE, job.error
    assert people(campaign)["1"].household.address_key == "1 ELM ST 78702"


# --- The command line ---------------------------------------------------------------


def test_map_builds_fields_from_several_columns_on_the_command_line(campaign, tmp_path):
    rows = [fl_row("100", "Diaz", "Rosa", "12 NW 5th Ave", area="352", number="5550142")]
    path = tmp_path / "county.txt"
    path.write_text(tsv(rows))
    out = io.StringIO()
    call_command(
        "import_voters",
        str(path),
        "--campaign",
        campaign.slug,
        "--map",
        "external_id=2",
        "--map",
        "last_name=3",
        "--map",
        "first_name=5",
        "--map",
        "address=8",
        "--map",
        "zip_code=12",
        "--map",
        "phone=35+36",
        "--no-progress",
        stdout=out,
    )
    rosa = people(campaign)["100"]
    assert (rosa.first_name, rosa.phone) == ("Rosa", "+13525550142")
    assert rosa.household.address_key == "12 NW 5TH AVE 32601"


def test_map_by_header_name_on_the_command_line(campaign, tmp_path):
    path = tmp_path / "van.csv"
    path.write_text("Id,Surname,Given,Street,Zip\n7,Lee,Ann,1 Elm St,78702\n")
    call_command(
        "import_voters",
        str(path),
        "--campaign",
        campaign.slug,
        "--map",
        "external_id=Id",
        "--map",
        "last_name=Surname",
        "--map",
        "first_name=Given",
        "--map",
        "address=Street",
        "--map",
        "zip_code=Zip",
        "--no-progress",
        stdout=io.StringIO(),
    )
    assert people(campaign)["7"].first_name == "Ann"


def test_map_with_an_unknown_field_is_a_clear_error(campaign, tmp_path):
    path = tmp_path / "van.csv"
    path.write_text("Id,Street\n7,1 Elm St\n")
    with pytest.raises(CommandError, match="“shoe_size” is not a field"):
        call_command(
            "import_voters", str(path), "--campaign", campaign.slug, "--map", "shoe_size=1"
        )
    with pytest.raises(CommandError, match="FIELD=COLUMN"):
        call_command("import_voters", str(path), "--campaign", campaign.slug, "--map", "phone")


def test_dry_run_shows_the_first_rows_and_problems_and_writes_nothing(campaign, tmp_path):
    path = tmp_path / "van.csv"
    path.write_text(
        "VANID,LastName,FirstName,Address,Zip5,Phone\n"
        "1,Lee,Ann,1 Elm St,78702,5125550100\n"
        "2,Lee,Bo,,78702,\n"
        "3,Lee,Cy,3 Elm St,78702,12\n"
    )
    out = io.StringIO()
    call_command(
        "import_voters",
        str(path),
        "--campaign",
        campaign.slug,
        "--preset",
        "van-export",
        "--dry-run",
        stdout=out,
    )
    text = out.getvalue()
    assert "Dry run: nothing was written." in text
    assert "row 2: Ann Lee, 1 Elm St, 78702, +15125550100" in text
    assert "row 3, Address: no address (refused)" in text
    assert "row 4, Phone: “12” is not a valid phone number (imported without it)" in text
    assert not Person.objects.exists() and not Household.objects.exists()
    assert not ImportJob.objects.exists()


# --- Updated state files --------------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False], ids=["postgres-copy", "portable"])
def test_update_run_moves_updates_and_inactivates_people_and_keeps_visits(campaign, tmp_path, fast):
    from tests.factories import AssignmentFactory, TurfFactory, TurfStopFactory, VisitFactory
    from turf.imports import import_job_create, import_job_run

    def run(rows, *, complete=False):
        path = tmp_path / "ncvoter92.txt"
        path.write_text(tsv(rows, header=NC_COLUMNS))
        job = import_job_create(campaign=campaign, preset="north-carolina", complete=complete)
        return import_job_run(job=job, path=path, fast=fast)

    first = run(
        [
            nc_row("M1", "MOVER", "MIA", "1 OAK ST"),
            nc_row("M2", "STAYER", "SAL", "2 OAK ST"),
            nc_row("M3", "GONE", "GIL", "3 OAK ST"),
            nc_row("M4", "MISSING", "MO", "4 OAK ST"),
            nc_row("M5", "ASSIGNED", "ABE", "5 OAK ST"),
        ]
    )
    assert first.people_created == 5
    found = people(campaign)
    old_home = found["M1"].household
    VisitFactory(campaign=campaign, household=old_home, person=found["M1"])
    open_turf = TurfFactory(campaign=campaign)
    for position, ncid in enumerate(["M1", "M3", "M4"], 1):
        TurfStopFactory(turf=open_turf, household=found[ncid].household, position=position)
    given = AssignmentFactory(turf=TurfFactory(campaign=campaign)).turf
    TurfStopFactory(turf=given, household=found["M5"].household, position=1)

    second = run(
        [
            nc_row("M1", "MOVER", "MIA", "90 PINE ST"),  # moved
            nc_row("M2", "STAYER", "SALLY", "2 OAK ST", party="DEM"),  # updated
            nc_row("M3", "GONE", "GIL", "3 OAK ST", status="R"),  # removed
            # M4 is no longer in the file, which is complete for its precinct.
            nc_row("M5", "ASSIGNED", "ABE", "5 OAK ST", status="R"),
        ],
        complete=True,
    )

    assert second.status == ImportJob.Status.DONE, second.error
    assert (second.people_created, second.people_inactivated) == (0, 3)
    assert Person.objects.filter(campaign=campaign).count() == 5  # nothing duplicated
    found = people(campaign)
    mia = found["M1"]
    assert mia.household.address_key == "90 PINE ST 27601" and mia.household != old_home
    assert mia.visits.count() == 1 and mia.inactive_since is None
    assert found["M2"].first_name == "SALLY" and found["M2"].extra["party_cd"] == "DEM"
    assert found["M3"].voter_status == "removed" and found["M3"].inactive_since
    assert found["M4"].inactive_since and found["M4"].voter_status == "active"
    # Doors whose people are all inactive leave the walk list no one was given (the door
    # Mia moved from stays: someone may live there); an assigned walk list keeps its doors.
    assert list(open_turf.stops.values_list("household", flat=True)) == [old_home.pk]
    assert given.stops.count() == 1
