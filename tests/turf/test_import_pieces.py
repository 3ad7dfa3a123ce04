"""Imports read in pieces on every core, and the caches that spare usaddress and phonenumbers.

The speed paths must give what the plain paths give: the same people, households and
report, the same address tags, the same phone validity.
"""

import random

import phonenumbers
import pytest
import usaddress

from tests.factories import CampaignFactory
from turf.imports import job as import_job
from turf.imports import normalising, reading, voters_import
from turf.models import Household, Person

HEADER = "VANID,LastName,FirstName,Address,City,State,Zip5,Phone,Notes\n"


def _voter_file(rows=1500):
    rng = random.Random(11)
    streets = ["Elm St", "Creek Ridge Trl", "US 70 Hwy", "N Oak Ave", "Mill Branch Rd"]
    lines = [HEADER]
    for i in range(1, rows + 1):
        street = f"{rng.randint(1, 400)} {rng.choice(streets)}"
        if i % 9 == 0:
            street += f" Apt {rng.randint(1, 30)}"
        phone = f"919{rng.randint(200, 999)}{rng.randint(0, 9999):04d}" if i % 3 else ""
        if i % 50 == 0:
            phone = "919555"  # a warning: the person is kept without it
        notes = f"note {i}"
        if i % 40 == 0:
            notes = f'"two\nlines, quoted {i}"'  # a quoted field across a line end
        address = "" if i % 97 == 0 else street  # refused: no address
        first = "José" if i % 10 == 0 else f"First{i}"  # UTF-8, so one bad line is a bad row
        lines.append(f"{i},Last{i % 13},{first},{address},Durham,NC,27701,{phone},{notes}\n")
        if i % 211 == 0:
            lines.append("\n")  # a blank line
        if i % 307 == 0:
            lines.append("short,row\n")  # refused: wrong number of columns
    return "".join(lines).encode() + b"9999,Bad,\xff\xfe,1 Elm St,Durham,NC,27701,,x\n"


def _snapshot(campaign):
    people = Person.objects.filter(campaign=campaign).values_list(
        "external_id", "first_name", "phone", "extra", "household__address_key"
    )
    households = Household.objects.filter(campaign=campaign).values_list(
        "address_key", "house_number", "street", "unit", "address_parts"
    )
    return sorted(people, key=str), sorted(households, key=str)


def test_reading_in_worker_processes_imports_what_one_process_imports(
    campaign, tmp_path, monkeypatch
):
    path = tmp_path / "voters.csv"
    path.write_bytes(_voter_file())
    serial = CampaignFactory()
    one = voters_import(campaign=serial, path=path, preset="van-export")

    pools = []
    original = import_job.normalising_pool

    def recorded(*args, **kwargs):
        manager = original(*args, **kwargs)

        class Recorded:
            def __enter__(self):
                pools.append(manager.__enter__())
                return pools[-1]

            def __exit__(self, *exc):
                return manager.__exit__(*exc)

        return Recorded()

    monkeypatch.setattr(import_job, "normalising_pool", recorded)
    monkeypatch.setattr(reading, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(reading, "PIECE_BYTES", 2048)  # dozens of pieces, cut mid-file
    monkeypatch.setattr(reading, "CHUNK", 700)
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    many = voters_import(campaign=campaign, path=path, preset="van-export")

    assert pools and pools[0] is not None  # the pieces went to worker processes
    assert len(list(reading._member_pieces(lambda: open(path, "rb"), quoted=True))) > 20
    assert many.status == one.status == many.Status.DONE
    assert _snapshot(campaign) == _snapshot(serial)
    assert many.error_report == one.error_report
    for field in ("rows_imported", "rows_failed", "rows_warned", "people_created"):
        assert getattr(many, field) == getattr(one, field), field
    assert one.rows_failed > 15 and one.rows_warned > 20
    reasons = {entry["reason"] for entry in one.error_report}
    assert "text that is not valid UTF-8" in reasons
    assert Person.objects.get(campaign=campaign, external_id="40").extra == {
        "Notes": "two\nlines, quoted 40"
    }


def test_pieces_end_at_line_ends_outside_quotes(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "PIECE_BYTES", 64)
    monkeypatch.setattr(reading, "CHUNK", 50)
    text = b"".join(b'%d,"a\nb\nc",x\n' % i for i in range(200)) + b"last,no newline"
    path = tmp_path / "quoted.csv"
    path.write_bytes(text)
    pieces = list(reading._member_pieces(lambda: open(path, "rb"), quoted=True))
    assert len(pieces) > 10
    assert b"".join(blob for blob, _ in pieces) == text
    assert [first for _, first in pieces] == [True] + [False] * (len(pieces) - 1)
    for blob, _ in pieces[:-1]:
        assert blob.endswith(b"\n") and blob.count(b'"') % 2 == 0


def test_cached_crf_labels_are_usaddress_own():
    rng = random.Random(3)
    shapes = [
        "{n} Creek Ridge Trl",
        "{n} Creek Ridge Trl Apt {u}",
        "{n} N Mill Branch Rd Unit {u}B",
        "{n} US 70 Hwy",
        "{n} Broadway & 5th Ave",
        "{n} Main St and {u} Oak St",
        "{n} PO Box {u}",
        "{n} 1/2 Cardinal Glen Run",
        "{n} County Road {u}",
        "{n} St James Pl # {u}",
        "{n}, Elm St",
    ]
    normalising.normalising_caches_clear()
    checked = 0
    for _ in range(600):
        number = rng.choice([rng.randint(1, 99999), rng.choice([10, 100, 2000, 0, 7])])
        line = rng.choice(shapes).format(n=number, u=rng.randint(1, 400))
        try:
            expected = usaddress.tag(line)
        except usaddress.RepeatedLabelError:
            expected = "repeated"
        try:
            got = normalising._usaddress_tag(line)
        except usaddress.RepeatedLabelError:
            got = "repeated"
        assert got == expected, line
        tokens = usaddress.tokenize(line)
        assert normalising._crf_features(tokens) == usaddress.tokens2features(tokens), line
        checked += 1
    info = normalising._crf_labels.cache_info()
    assert info.hits > checked // 2  # most lines were a street and number shape seen before


def test_compiled_phone_check_answers_as_phonenumbers():
    rng = random.Random(8)
    for region in ["US", "CA", "PR", "JM", "AG", "VI"]:
        check = normalising._nanp_valid(region)
        for _ in range(3000):
            digits = f"{rng.randint(2, 9)}{rng.randint(0, 99):02d}{rng.randint(0, 9999999):07d}"
            number = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
            expected = phonenumbers.is_valid_number_for_region(number, region)
            assert check(digits) == expected, (region, digits)


@pytest.mark.parametrize("raw", ["9195550123", "(919) 255-0134", "+1 919 255 0134", "919555"])
def test_phone_fast_path_gives_the_full_parse(raw):
    from django.core.exceptions import ValidationError

    from canvass.phones import phone_normalize

    try:
        expected = phone_normalize(raw, region="US")
    except ValidationError:
        expected = None
    try:
        got = normalising.phone_for_import(raw, "US")
    except normalising.RowError:
        got = None
    assert got == expected
