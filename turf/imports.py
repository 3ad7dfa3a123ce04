"""Voter-file imports: read any delimited export, map its columns, normalise, upsert.

The file is streamed twice and never held in memory: a byte scan (encoding,
row count, binary junk) and then the import itself. Each row is normalised in
Python (phones through phonenumbers, addresses through usaddress) and then
written in bulk: on PostgreSQL with COPY into a temporary table and one
INSERT … ON CONFLICT per table, elsewhere (the SQLite demo) with bulk_create
and bulk_update in batches.

People are matched by their external voter id within the campaign, so a
re-import updates them; households by their normalised address key.
"""

from __future__ import annotations

import csv
import functools
import operator
import queue
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
import usaddress
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from scourgify.address_constants import (
    DIRECTIONAL_REPLACEMENTS,
    OCCUPANCY_TYPE_ABBREVIATIONS,
    STATE_ABBREVIATIONS,
    STREET_TYPE_ABBREVIATIONS,
)

from canvass.models import AuditEvent
from canvass.phones import phone_normalize
from turf.models import Household, ImportJob, ImportPreset, Person

# --- What a voter file can hold -------------------------------------------------

FIELDS = {
    "external_id": "Voter ID",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "email": "Email",
    "language": "Language",
    "address": "Street address (whole line)",
    "house_number": "House number",
    "street": "Street name",
    "unit": "Unit / apartment",
    "city": "City",
    "state": "State",
    "zip_code": "ZIP code",
    "precinct": "Precinct",
    "lat": "Latitude",
    "lng": "Longitude",
}

# Header spellings seen in real exports, compared with _norm() (lowercase, letters and digits).
ALIASES = {
    "external_id": "ncid vanid voterid voterregnum sosvoterid statevoterid regnum "
    "voterregistrationnumber externalid personid id",
    "first_name": "firstname fname first namefirst givenname",
    "last_name": "lastname lname last namelast surname familyname",
    "phone": "phone fullphonenumber phonenumber homephone cellphone mobilephone mobile "
    "telephone tel preferredphone",
    "email": "email emailaddress preferredemail",
    "language": "language lang preferredlanguage",
    "address": "address resstreetaddress streetaddress address1 addressline1 "
    "residentialaddress resaddress residenceaddress resaddress1",
    "house_number": "housenumber housenum streetnumber streetnum resstreetnum addressnumber "
    "resnum houseno",
    "street": "streetname resstreetname street",
    "unit": "unit apt apartment unitnumber unitnum resunitnum aptnum address2 addressline2 "
    "apartmentnumber",
    "city": "city rescitydesc rescity residentialcity town municipality",
    "state": "state statecd resstate residentialstate",
    "zip_code": "zip zip5 zipcode postalcode reszip reszipcode residentialzip zip5code",
    "precinct": "precinct precinctabbrv precinctname precinctcode pct precinctid",
    "lat": "lat latitude",
    "lng": "lng lon long longitude",
}


def _norm(header):
    return re.sub(r"[^a-z0-9]", "", header.lower())


ALIAS_TO_FIELD = {alias: name for name, aliases in ALIASES.items() for alias in aliases.split()}


@dataclass(frozen=True)
class Preset:
    """A known file layout: which column holds which field, by header name or position."""

    name: str
    label: str
    has_header: bool
    mapping: dict


# Built-in layouts. Saved per-campaign presets (ImportPreset) sit beside these.
PRESETS = {
    preset.name: preset
    for preset in [
        Preset(
            name="nc-voter-file",
            label="State voter file (NC-style: ncid, res_street_address, full_phone_number…)",
            has_header=True,
            mapping={
                "external_id": "ncid",
                "first_name": "first_name",
                "last_name": "last_name",
                "address": "res_street_address",
                "city": "res_city_desc",
                "state": "state_cd",
                "zip_code": "zip_code",
                "phone": "full_phone_number",
                "precinct": "precinct_abbrv",
            },
        ),
        Preset(
            name="state-extract",
            label=(
                "Headerless state extract, by position: id, last, first, middle, house number, "
                "street, unit, city, state, ZIP, phone, precinct"
            ),
            has_header=False,
            mapping={
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
            },
        ),
        Preset(
            name="van-export",
            label="VAN-style export (VANID, LastName, FirstName, Address, City, Zip5, Phone)",
            has_header=True,
            mapping={
                "external_id": "VANID",
                "last_name": "LastName",
                "first_name": "FirstName",
                "address": "Address",
                "city": "City",
                "state": "State",
                "zip_code": "Zip5",
                "phone": "Phone",
                "email": "Email",
                "precinct": "PrecinctName",
            },
        ),
    ]
}

MAX_REPORTED_ERRORS = 50_000
DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon"}
SAMPLE_LINES = 200


class ImportFileError(Exception):
    """The file cannot be imported at all. The message says why and what to do."""


# --- Reading the file -------------------------------------------------------------


@dataclass
class FileShape:
    """What the byte scan and the first lines tell about a file."""

    encoding: str
    delimiter: str
    has_header: bool
    quoted: bool
    columns: int
    header: list[str]
    sample: list[list[str]]
    lines: int

    @property
    def data_rows(self):
        return max(self.lines - (1 if self.has_header else 0), 0)

    def column_choices(self):
        """(index, label) for each column, for the mapping form."""
        choices = []
        for index in range(self.columns):
            name = self.header[index] if self.has_header and index < len(self.header) else ""
            choices.append((index, f"{index + 1}: {name}" if name else f"Column {index + 1}"))
        return choices


def _scan_bytes(path):
    """(line count, encoding) from one pass over the raw bytes.

    Valid UTF-8 everywhere → "utf-8". Lines that are not UTF-8 in a file whose
    other non-ASCII lines are → still UTF-8, and those lines become bad rows
    ("undecodable text"). Mostly-invalid → Latin-1, which decodes anything.
    """
    lines = 0
    valid_non_ascii = 0
    invalid = 0
    carry = b""
    ends_with_newline = True

    def classify(body):
        nonlocal valid_non_ascii, invalid
        try:
            body.decode("utf-8")
            valid_non_ascii += 1
            return
        except UnicodeDecodeError:
            pass
        for line in body.split(b"\n"):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                valid_non_ascii += 1
            except UnicodeDecodeError:
                invalid += 1

    with open(path, "rb") as handle:
        for chunk in iter(functools.partial(handle.read, 1 << 20), b""):
            buffer = carry + chunk
            cut = buffer.rfind(b"\n")
            if cut == -1:
                carry = buffer
                continue
            body, carry = buffer[: cut + 1], buffer[cut + 1 :]
            lines += body.count(b"\n")
            if not body.isascii():
                classify(body)
        if carry:
            ends_with_newline = False
            lines += 1
            if not carry.isascii():
                classify(carry)
    del ends_with_newline
    if invalid and invalid > valid_non_ascii:
        return lines, "latin-1"
    return lines, "utf-8"


def _check_not_binary(path):
    with open(path, "rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise ImportFileError("The file is empty. Export the voter file again and upload it.")
    if head.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "This is a spreadsheet workbook or a zip archive, not a text file. "
            "Save it as CSV (comma-separated) and upload that."
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "The file is UTF-16 text. Save it as UTF-8 CSV (or Latin-1) and upload that."
        )
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if b"\x00" in head or controls > len(head) // 100:
        raise ImportFileError(
            "This does not look like a text file (it holds binary data). "
            "Upload the voter file as CSV, tab- or pipe-delimited text."
        )


def _decoded_lines(path, encoding, bad_lines):
    """The file's lines as text; lines that fail to decode are noted in `bad_lines`."""
    with open(path, "rb") as handle:
        first = True
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                bad_lines.add(number)
                text = raw.decode(encoding, "replace")
            if first:
                text = text.removeprefix("\ufeff")
                first = False
            yield text


def _sniff_delimiter(lines, quoted):
    best = None
    for delimiter in DELIMITERS:
        reader = csv.reader(lines, **_dialect(delimiter, quoted))
        counts = Counter(len(row) for row in reader if row)
        if not counts:
            continue
        width, hits = counts.most_common(1)[0]
        if width < 2:
            continue
        score = (hits / sum(counts.values()), width)
        if best is None or score > best[0]:
            best = (score, delimiter)
    if best is None:
        raise ImportFileError(
            "Could not find columns in this file: every row is one single column. "
            "Use a file with commas, tabs or pipes (|) between columns."
        )
    return best[1]


def _dialect(delimiter, quoted):
    if quoted:
        return {"delimiter": delimiter, "quotechar": '"', "doublequote": True}
    # No quotes in the sample: a stray quote later on must not swallow the rows after it.
    return {"delimiter": delimiter, "quoting": csv.QUOTE_NONE}


def _looks_like_header(first, rest):
    known = sum(1 for cell in first if _norm(cell) in ALIAS_TO_FIELD)
    if known >= 2:
        return True
    if any(cell.strip().replace("-", "").isdigit() for cell in first):
        return False
    # A column that is numeric in the data but not in the first row: a header.
    for index, cell in enumerate(first):
        values = [row[index].strip() for row in rest if index < len(row) and row[index].strip()]
        if values and cell.strip() and all(v.isdigit() for v in values):
            return True
    return known >= 1


def file_inspect(*, path, has_header=None):
    """The shape of the file at `path`, or ImportFileError saying why it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"There is no file at {path}.")
    if path.stat().st_size == 0:
        raise ImportFileError("The file is empty. Export the voter file again and upload it.")
    _check_not_binary(path)
    lines, encoding = _scan_bytes(path)
    sample_lines = []
    for line in _decoded_lines(path, encoding, set()):
        if line.strip():
            sample_lines.append(line)
        if len(sample_lines) >= SAMPLE_LINES:
            break
    if not sample_lines:
        raise ImportFileError("The file has no rows. Export the voter file again and upload it.")
    quoted = any('"' in line for line in sample_lines)
    delimiter = _sniff_delimiter(sample_lines, quoted)
    rows = [row for row in csv.reader(sample_lines, **_dialect(delimiter, quoted)) if row]
    widths = Counter(len(row) for row in rows)
    columns = widths.most_common(1)[0][0]
    if has_header is None:
        has_header = _looks_like_header(rows[0], rows[1:])
    header = [cell.strip() for cell in rows[0]] if has_header else []
    if has_header:
        columns = len(header)
    return FileShape(
        encoding=encoding,
        delimiter=delimiter,
        has_header=has_header,
        quoted=quoted,
        columns=columns,
        header=header,
        sample=rows[1:6] if has_header else rows[:5],
        lines=lines,
    )


# --- Column mapping -------------------------------------------------------------


def mapping_guess(shape):
    """{field: column index} from the header's names; {} for a headerless file."""
    guess = {}
    if not shape.has_header:
        return guess
    for index, name in enumerate(shape.header):
        field_name = ALIAS_TO_FIELD.get(_norm(name))
        if field_name and field_name not in guess:
            guess[field_name] = index
    if "address" in guess and "street" in guess and "house_number" not in guess:
        del guess["street"]
    return guess


def mapping_resolve(mapping, shape):
    """{field: column index} from a mapping that names columns by header or position.

    Raises ImportFileError when the mapping cannot be used with this file.
    """
    resolved = {}
    by_name = {_norm(name): index for index, name in enumerate(shape.header)}
    for field_name, column in (mapping or {}).items():
        if field_name not in FIELDS or column in (None, ""):
            continue
        if isinstance(column, int) or (isinstance(column, str) and column.isdigit()):
            index = int(column)
        elif shape.has_header and _norm(column) in by_name:
            index = by_name[_norm(column)]
        else:
            continue
        if 0 <= index < shape.columns:
            resolved[field_name] = index
    has_address = "address" in resolved or {"house_number", "street"} <= resolved.keys()
    if not resolved:
        raise ImportFileError(
            "None of the file's columns could be matched to voter fields. Choose the layout "
            "(preset) that matches the file, or map the columns by hand."
        )
    if not has_address:
        raise ImportFileError(
            "No column holds an address. Map “Street address (whole line)”, or both "
            "“House number” and “Street name”."
        )
    return resolved


def mapping_by_name(resolved, shape):
    """A resolved mapping stored by header name when there is one (reusable as a preset)."""
    if not shape.has_header:
        return dict(resolved)
    return {name: shape.header[index] for name, index in resolved.items()}


def presets_for(campaign):
    """Built-in presets and the campaign's saved ones, by name."""
    found = dict(PRESETS)
    for saved in ImportPreset.objects.filter(campaign=campaign):
        found[saved.name] = Preset(
            name=saved.name,
            label=saved.name,
            has_header=saved.has_header,
            mapping=saved.column_mapping,
        )
    return found


def preset_get(*, campaign, name):
    presets = presets_for(campaign)
    if name not in presets:
        raise ImportFileError(
            f"There is no preset called “{name}”. Known presets: {', '.join(sorted(presets))}."
        )
    return presets[name]


def import_preset_save(*, campaign, name, has_header, column_mapping, created_by=None):
    """Save (or replace) a campaign's named column mapping for the next file of this layout."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the preset a name.")
    if name in PRESETS:
        raise ValidationError(f"“{name}” is a built-in preset. Choose another name.")
    preset, _ = ImportPreset.objects.update_or_create(
        campaign=campaign,
        name=name,
        defaults={
            "has_header": has_header,
            "column_mapping": column_mapping,
            "created_by": created_by,
        },
    )
    return preset


# --- Normalising one row --------------------------------------------------------


class RowError(Exception):
    def __init__(self, column, reason, value=""):
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class AddressParts:
    house_number: str
    street: str
    unit: str
    key_street: str  # normalised "123 N MAIN ST"
    unit_id: str  # normalised "4B"
    parts: dict = field(default_factory=dict, compare=False)


_DIRECTIONS = {**DIRECTIONAL_REPLACEMENTS, **{v: v for v in DIRECTIONAL_REPLACEMENTS.values()}}
_SHORT_DIRECTIONS = set(DIRECTIONAL_REPLACEMENTS.values())
_UNIT_WORDS = {
    **OCCUPANCY_TYPE_ABBREVIATIONS,
    **{v: v for v in OCCUPANCY_TYPE_ABBREVIATIONS.values()},
}
# The fast path only takes the unit words usaddress reads the same way every time.
_FAST_UNIT_WORDS = {"APT", "APARTMENT", "UNIT", "STE", "SUITE", "LOT", "#"}
# Words that make usaddress read a street differently (routes, highways, "Saint").
_NOT_NAME_WORDS = set(
    "COUNTY STATE US USHWY RT RTE ROUTE HWY HIGHWAY SR CR FM RR HC INTERSTATE I BOX PO ST STE "
    "AVENUE AVE AV ROAD RD PLACE PL DRIVE DR LANE LN COURT CT CIRCLE CIR BOULEVARD BLVD WAY "
    "WY STREET TERRACE TER HALF FLOOR FL".split()
)
# Street types usaddress always reads as the type when they end the street ("Park" it does not).
_FAST_STREET_TYPES = set(
    "ST STREET AVE AVENUE RD ROAD DR DRIVE LN LANE CT COURT BLVD BOULEVARD WAY PL PLACE CIR "
    "CIRCLE TER TERRACE".split()
)
_STREET_TYPE_WORDS = set(STREET_TYPE_ABBREVIATIONS) | set(STREET_TYPE_ABBREVIATIONS.values())
# Street-type words that are common street names and that usaddress reads as names.
_NAME_WORDS_LIKE_TYPES = set(
    "LAKE HILL MILL PARK PINE SPRING FOREST RIVER GARDEN MEADOW RIDGE VIEW GROVE CREEK "
    "VALLEY".split()
)
# Short USPS abbreviations ("DL", "LK") read as street types, never as names.
_NOT_NAME_WORDS |= {abbr for abbr in STREET_TYPE_ABBREVIATIONS.values() if len(abbr) <= 3}
_ORDINAL = re.compile(r"^\d+(ST|ND|RD|TH)$")
_UNIT_ID = re.compile(r"^#?[A-Z0-9]{1,6}(-[A-Z0-9]{1,4})?$")
_HOUSE_NUMBER = re.compile(r"^\d{1,7}$")


def _fast_tags(line):
    """usaddress's tags for the plainest shapes ("123 N Main St Apt 4"), else None.

    Most voter-file addresses look like this, and usaddress's CRF costs about
    100 µs a call; the library still reads everything else. tests check the two agree.
    """
    tokens = line.replace(",", " ").split()
    if len(tokens) < 3 or not _HOUSE_NUMBER.match(tokens[0]):
        return None
    upper = [token.upper() for token in tokens]
    tags = {"AddressNumber": tokens[0]}
    end = len(tokens)
    if end >= 5 and upper[-2] in _FAST_UNIT_WORDS and upper[-2] != "#":
        if not _UNIT_ID.match(upper[-1]) or upper[-1].startswith("#"):
            return None
        tags["OccupancyType"] = tokens[-2]
        tags["OccupancyIdentifier"] = tokens[-1]
        end -= 2
    elif end >= 4 and upper[-1].startswith("#") and _UNIT_ID.match(upper[-1]) and upper[-1] != "#":
        tags["OccupancyIdentifier"] = tokens[-1]
        end -= 1
    start = 1
    postdir = None
    if (
        end - start >= 3
        and upper[end - 1] in _SHORT_DIRECTIONS
        and upper[end - 2] in _FAST_STREET_TYPES
    ):
        postdir = tokens[end - 1]
        end -= 1
    if upper[end - 1] not in _FAST_STREET_TYPES:
        return None
    street_type = tokens[end - 1]
    end -= 1
    predir = None
    if end - start >= 2 and upper[start] in _SHORT_DIRECTIONS:
        predir = tokens[start]
        start += 1
    name = tokens[start:end]
    if not 1 <= len(name) <= 3:
        return None
    for word in upper[start:end]:
        if not (word.isalpha() or _ORDINAL.match(word)):
            return None
        if word in _NOT_NAME_WORDS or word in _DIRECTIONS or word in _UNIT_WORDS:
            return None
        if word in _STREET_TYPE_WORDS and word not in _NAME_WORDS_LIKE_TYPES:
            return None
    if predir:
        tags["StreetNamePreDirectional"] = predir
    tags["StreetName"] = " ".join(name)
    tags["StreetNamePostType"] = street_type
    if postdir:
        tags["StreetNamePostDirectional"] = postdir
    return tags


def _library_tags(line):
    try:
        tags, kind = usaddress.tag(line)
    except usaddress.RepeatedLabelError:
        raise RowError(
            "address", f"could not tell the house number, street and unit apart in “{line}”", line
        ) from None
    if kind == "PO Box" or "USPSBoxType" in tags:
        raise RowError("address", f"“{line}” is a PO box, not a door", line)
    return dict(tags)


_STREET_PARTS = (
    "StreetNamePreModifier",
    "StreetNamePreDirectional",
    "StreetNamePreType",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostDirectional",
)


def _key_word(label, value):
    word = value.upper().strip(".,")
    if label in ("StreetNamePreDirectional", "StreetNamePostDirectional"):
        return _DIRECTIONS.get(word, word)
    if label in ("StreetNamePreType", "StreetNamePostType"):
        return STREET_TYPE_ABBREVIATIONS.get(word, word)
    return _NOT_KEY_WORD.sub("", word)


_NOT_KEY_WORD = re.compile(r"[^A-Z0-9 ]")
_NOT_UNIT_ID = re.compile(r"[^A-Z0-9]")


def _unit_id(value):
    return _NOT_UNIT_ID.sub("", value.upper())


def _unit_from_cell(value):
    """In a unit column, "Apt 4B", "#4B" and "4B" are all unit 4B."""
    words = value.replace("#", " # ").split()
    if len(words) > 1 and words[0].upper().strip(".") in _UNIT_WORDS:
        words = words[1:]
    return _unit_id("".join(words))


@functools.lru_cache(maxsize=262_144)
def address_parse(line):
    """Split one street line into display parts and a normalised key. Cached per line.

    Raises RowError when the line has no house number or street.
    """
    line = " ".join(line.split())
    tags = _fast_tags(line) or _library_tags(line)
    number = " ".join(filter(None, [tags.get("AddressNumber"), tags.get("AddressNumberSuffix")]))
    if not number:
        raise RowError("address", f"no house number in “{line}”", line)
    if not tags.get("StreetName"):
        raise RowError("address", f"no street name in “{line}”", line)
    street = " ".join(tags[label] for label in _STREET_PARTS if tags.get(label))
    if len(number) > 20 or len(street) > 200:
        raise RowError("address", "house number or street name too long", line[:40])
    key_street = " ".join(
        [number.upper()]
        + [_key_word(label, tags[label]) for label in _STREET_PARTS if tags.get(label)]
    )
    unit_type = tags.get("OccupancyType") or tags.get("SubaddressType") or ""
    unit_ident = tags.get("OccupancyIdentifier") or tags.get("SubaddressIdentifier") or ""
    unit_ident = unit_ident.replace("# ", "#")
    unit = " ".join(filter(None, [unit_type, unit_ident]))
    name_labels = ("StreetNamePreModifier", "StreetNamePreType", "StreetName")
    parts = {
        "number": number,
        "predir": _DIRECTIONS.get(tags.get("StreetNamePreDirectional", "").upper(), ""),
        "name": " ".join(tags[label] for label in name_labels if tags.get(label)),
        "type": _key_word("StreetNamePostType", tags.get("StreetNamePostType", "")),
        "postdir": _DIRECTIONS.get(tags.get("StreetNamePostDirectional", "").upper(), ""),
        "unit": _unit_id(unit_ident),
        "city": tags.get("PlaceName", ""),
        "state": tags.get("StateName", ""),
        "zip": tags.get("ZipCode", ""),
    }
    return AddressParts(
        house_number=number,
        street=street,
        unit=unit,
        key_street=key_street,
        unit_id=parts["unit"],
        parts=parts,
    )


def address_key(*, address, unit_id="", zip_code="", city=""):
    """The household key, e.g. "123 N MAIN ST #4 78702": people at one key are one household."""
    key = address.key_street
    if unit_id:
        key = f"{key} #{unit_id}"
    return f"{key} {zip_code or city.upper()}"[:300]


def household_key(*, house_number, street, unit="", zip_code="", city=""):
    """address_key for an address already in parts (the demo town, a form)."""
    address = address_parse(f"{house_number} {street}")
    unit_id = _unit_from_cell(unit) if unit else address.unit_id
    return address_key(address=address, unit_id=unit_id, zip_code=zip_code, city=city)


_PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-]+$")
_NON_DIGITS = re.compile(r"\D")


def phone_for_import(raw, region):
    """E.164 or "" for blank; RowError for a number that is not valid.

    North American numbers written as plain digits skip phonenumbers' parser
    (the slow part) and go straight to its validity check, which gives the same
    answer; anything else goes through canvass.phones.phone_normalize.
    """
    raw = raw.strip()
    if not raw:
        return ""
    if region in _NANP_REGIONS and _PHONE_SHAPE.match(raw):
        digits = _NON_DIGITS.sub("", raw)
        if raw.startswith("+") or len(digits) == 11:
            digits = digits[1:] if len(digits) == 11 and digits[0] == "1" else ""
        if len(digits) == 10:
            number = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
            if phonenumbers.is_valid_number_for_region(number, region):
                return "+1" + digits
    try:
        return phone_normalize(raw, region=region)
    except ValidationError:
        raise RowError("phone", f"“{raw}” is not a valid phone number", raw) from None


_NANP_REGIONS = frozenset(phonenumbers.region_codes_for_country_code(1))
_STATES = {**STATE_ABBREVIATIONS, **{v: v for v in STATE_ABBREVIATIONS.values()}}
_LIMITS = {
    "external_id": 100,
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "language": 10,
    "city": 100,
    "state": 40,
    "precinct": 60,
    "house_number": 20,
    "street": 200,
    "unit": 40,
}


class Normaliser:
    """Turns the cells of one row into the values written for a person and household."""

    def __init__(self, *, mapping, region):
        self.mapping = dict(mapping)  # field → column index
        self.get = self.mapping
        self.region = region
        self.fields = list(self.mapping)
        self.pick = operator.itemgetter(*self.mapping.values())
        self.has_phone = "phone" in self.mapping
        self.has_whole_line = "address" in self.mapping
        self.has_coordinates = "lat" in self.mapping or "lng" in self.mapping

    def __call__(self, cells):
        picked = self.pick(cells)
        if len(self.fields) == 1:
            picked = (picked,)
        got = dict(zip(self.fields, picked, strict=True)).get
        external_id = got("external_id", "").strip()
        first_name = got("first_name", "").strip()
        last_name = got("last_name", "").strip()
        if self.has_whole_line:
            line = got("address", "").strip()
            if not line:
                raise RowError("address", "no address")
        else:
            number, street_name = got("house_number", "").strip(), got("street", "").strip()
            if not number and not street_name:
                raise RowError("address", "no address")
            line = f"{number} {street_name}"
        address = address_parse(line)
        unit = got("unit", "").strip()
        if unit:
            unit_id = _unit_from_cell(unit)
            unit_display = unit
            if unit.isalnum() and not unit.isalpha():
                unit_display = f"#{unit}" if unit.isdigit() else unit
            if len(unit_display) > 40:
                raise RowError("unit", "longer than 40 characters", unit[:40])
        else:
            unit_id, unit_display = address.unit_id, address.unit
        city = got("city", "").strip() or address.parts["city"]
        state = got("state", "").strip() or address.parts["state"]
        if state:
            state = _STATES.get(state.upper(), state)
        zip5 = (got("zip_code", "").strip() or address.parts["zip"]).split("-")[0].strip()[:5]
        if len(zip5) < 5 and zip5.isdigit():
            zip5 = zip5.zfill(5)  # spreadsheets drop New England's leading zeros
        phone = phone_for_import(got("phone", ""), self.region) if self.has_phone else ""
        email = got("email", "").strip().lower()
        if email and ("@" not in email or " " in email):
            raise RowError("email", f"“{email}” is not an email address", email)
        language = got("language", "").strip()
        precinct = got("precinct", "").strip()
        lat = lng = None
        if self.has_coordinates:
            lat = _coordinate(got("lat", "").strip(), "lat", 90)
            lng = _coordinate(got("lng", "").strip(), "lng", 180)
        if (
            len(external_id) > 100
            or len(first_name) > 100
            or len(last_name) > 100
            or len(city) > 100
            or len(state) > 40
            or len(precinct) > 60
            or len(language) > 10
            or len(email) > 254
        ):
            _too_long(
                external_id=external_id,
                first_name=first_name,
                last_name=last_name,
                city=city,
                state=state,
                precinct=precinct,
                language=language,
                email=email,
            )
        key = address_key(address=address, unit_id=unit_id, zip_code=zip5, city=city)
        parts = address.parts
        return (
            external_id,
            first_name,
            last_name,
            phone,
            email,
            language,
            address.house_number,
            address.street,
            unit_display,
            city,
            state,
            zip5,
            precinct,
            key,
            parts["predir"],
            parts["name"],
            parts["type"],
            parts["postdir"],
            unit_id,
            lat,
            lng,
        )


def _too_long(**values):
    for name, value in values.items():
        if len(value) > _LIMITS[name]:
            raise RowError(name, f"longer than {_LIMITS[name]} characters", value[:40])


STAGE_COLUMNS = (
    "external_id",
    "first_name",
    "last_name",
    "phone",
    "email",
    "language",
    "house_number",
    "street",
    "unit",
    "city",
    "state",
    "zip_code",
    "precinct",
    "address_key",
    "part_predir",
    "part_name",
    "part_type",
    "part_postdir",
    "unit_id",
    "lat",
    "lng",
)


def household_parts(row):
    """Household.address_parts from a staged row (the same shape the SQL path builds)."""
    return {
        "number": row["house_number"],
        "predir": row["part_predir"],
        "name": row["part_name"],
        "type": row["part_type"],
        "postdir": row["part_postdir"],
        "unit": row["unit_id"],
        "city": row["city"],
        "state": row["state"],
        "zip": row["zip_code"],
    }


def _coordinate(raw, column, limit):
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise RowError(column, f"“{raw}” is not a number", raw) from None
    if not -limit <= value <= limit:
        raise RowError(column, f"{raw} is out of range (±{limit})", raw)
    return value


# --- Streaming rows -------------------------------------------------------------


@dataclass
class Report:
    """Bad rows, as shown in the downloadable report."""

    errors: list = field(default_factory=list)
    failed: int = 0

    def add(self, row, column, reason, value=""):
        self.failed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "column": column, "reason": reason, "value": value})


def _rows(path, shape, normalise, column_names, report):
    """Yield (row number, staged values) for good rows; bad rows go to `report`.

    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    bad_lines = set()
    lines = _decoded_lines(path, shape.encoding, bad_lines)
    reader = csv.reader(lines, **_dialect(shape.delimiter, shape.quoted))
    width = shape.columns
    row_number = 0
    last_line = 0
    if shape.has_header:
        try:
            next(reader)
        except StopIteration:
            return
        row_number = 1
        last_line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_number += 1
            report.add(row_number, "", f"unreadable row: {exc}")
            last_line = reader.line_num
            continue
        row_number += 1
        if bad_lines and any(n in bad_lines for n in range(last_line + 1, reader.line_num + 1)):
            last_line = reader.line_num
            column = next(
                (column_names[i] for i, c in enumerate(cells) if "\ufffd" in c and i < width), ""
            )
            report.add(row_number, column, f"text that is not valid {shape.encoding.upper()}")
            continue
        last_line = reader.line_num
        if len(cells) != width:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if not (len(cells) == width + 1 and not cells[-1]):
                report.add(
                    row_number, "", f"wrong number of columns: expected {width}, found {len(cells)}"
                )
                continue
        try:
            yield row_number, normalise(cells)
        except RowError as error:
            column = error.column
            index = normalise.get.get(column)
            if index is None and column == "address":
                index = normalise.get.get("house_number", normalise.get.get("street"))
            report.add(
                row_number,
                column_names[index] if index is not None else FIELDS.get(column, column),
                error.reason,
                error.value,
            )


# --- Writing --------------------------------------------------------------------

BATCH = 2000
COPY_CHUNK = 50_000

# Each batch is staged as one row per door and one row per person, de-duplicated in
# Python (the file's last row wins). The matching household and person ids are then
# looked up row by row through the unique indexes (correlated subqueries, one index
# probe each: the cost never grows with the campaign's size, whatever the planner's
# statistics say), and the merge is a plain UPDATE by id and a plain INSERT of the
# rows without one. An advisory lock per campaign keeps two imports from racing.
_STAGE_DDL = """
CREATE TEMPORARY TABLE import_households (
    house_number text, street text, unit text, city text, state text, zip_code text,
    precinct text, address_key text, part_predir text, part_name text, part_type text,
    part_postdir text, unit_id text, lat double precision, lng double precision,
    household_id bigint
);
CREATE TEMPORARY TABLE import_people (
    external_id text, first_name text, last_name text, phone text, email text,
    language text, address_key text, household_id bigint, person_id bigint
)
"""
HOUSEHOLD_STAGE = (6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
HOUSEHOLD_STAGE_COLUMNS = (
    "house_number, street, unit, city, state, zip_code, precinct, address_key, part_predir, "
    "part_name, part_type, part_postdir, unit_id, lat, lng"
)
PEOPLE_STAGE = (0, 1, 2, 3, 4, 5, 13)
PEOPLE_STAGE_COLUMNS = "external_id, first_name, last_name, phone, email, language, address_key"

_FIND_HOUSEHOLDS = """
UPDATE import_households s SET household_id = (
    SELECT h.id FROM turf_household h
    WHERE h.campaign_id = %(campaign)s AND h.address_key = s.address_key
)
"""

_PARTS_JSON = """jsonb_build_object(
    'number', s.house_number, 'predir', s.part_predir, 'name', s.part_name,
    'type', s.part_type, 'postdir', s.part_postdir, 'unit', s.unit_id, 'city', s.city,
    'state', s.state, 'zip', s.zip_code
)"""

_UPDATE_HOUSEHOLDS = f"""
UPDATE turf_household h SET
    precinct = CASE WHEN s.precinct <> '' THEN s.precinct ELSE h.precinct END,
    lat = COALESCE(s.lat, h.lat),
    lng = COALESCE(s.lng, h.lng),
    address_parts = {_PARTS_JSON}
FROM import_households s
WHERE s.household_id IS NOT NULL AND h.id = s.household_id
  AND (h.address_parts IS DISTINCT FROM {_PARTS_JSON}
       OR (s.precinct <> '' AND h.precinct IS DISTINCT FROM s.precinct)
       OR (s.lat IS NOT NULL AND h.lat IS DISTINCT FROM s.lat)
       OR (s.lng IS NOT NULL AND h.lng IS DISTINCT FROM s.lng))
"""

_INSERT_HOUSEHOLDS = f"""
INSERT INTO turf_household (
    campaign_id, house_number, street, unit, city, state, zip_code, address_key,
    precinct, external_id, address_parts, lat, lng
)
SELECT %(campaign)s, s.house_number, s.street, s.unit, s.city, s.state, s.zip_code,
       s.address_key, s.precinct, '', {_PARTS_JSON}, s.lat, s.lng
FROM import_households s
WHERE s.household_id IS NULL
"""

# A person with a voter id is that id; without one, the same first and last name in the
# same household is the same person.
_FIND_PEOPLE = """
UPDATE import_people s SET household_id = (
    SELECT h.id FROM turf_household h
    WHERE h.campaign_id = %(campaign)s AND h.address_key = s.address_key
)
"""
_FIND_PEOPLE_WITH_ID = """
UPDATE import_people s SET person_id = (
    SELECT p.id FROM turf_person p
    WHERE p.campaign_id = %(campaign)s AND p.external_id = s.external_id
      AND NOT (p.external_id = '')
)
WHERE s.external_id <> ''
"""
_FIND_PEOPLE_NO_ID = """
UPDATE import_people s SET person_id = (
    SELECT p.id FROM turf_person p
    WHERE p.household_id = s.household_id AND p.external_id = ''
      AND lower(p.first_name) = lower(s.first_name)
      AND lower(p.last_name) = lower(s.last_name)
    ORDER BY p.id LIMIT 1
)
WHERE s.external_id = ''
"""

# Blank phone, email or language in the file keep what is known: an organizer may
# have collected them at the door. Consent and do-not-contact are never touched.
_UPDATE_PEOPLE = """
UPDATE turf_person p SET
    household_id = s.household_id,
    first_name = s.first_name,
    last_name = s.last_name,
    phone = COALESCE(NULLIF(s.phone, ''), p.phone),
    email = COALESCE(NULLIF(s.email, ''), p.email),
    language = COALESCE(NULLIF(s.language, ''), p.language)
FROM import_people s
WHERE s.person_id IS NOT NULL AND p.id = s.person_id
  AND (p.household_id, p.first_name, p.last_name, p.phone, p.email, p.language)
      IS DISTINCT FROM
      (s.household_id, s.first_name, s.last_name,
       COALESCE(NULLIF(s.phone, ''), p.phone),
       COALESCE(NULLIF(s.email, ''), p.email),
       COALESCE(NULLIF(s.language, ''), p.language))
"""

_INSERT_PEOPLE = """
INSERT INTO turf_person (
    campaign_id, household_id, first_name, last_name, phone, email, language,
    external_id, contact_consent, do_not_contact, created_at
)
SELECT %(campaign)s, s.household_id, s.first_name, s.last_name, s.phone, s.email,
       s.language, s.external_id, false, false, %(now)s
FROM import_people s
WHERE s.person_id IS NULL
"""


@dataclass
class Counts:
    rows_imported: int = 0
    households_created: int = 0
    people_created: int = 0
    people_updated: int = 0


class PostgresWriter:
    """COPY good rows into a temporary table and merge them, batch by batch, in one transaction.

    Outside any transaction (the worker, the command) the database work runs on
    its own connection in a second thread, so PostgreSQL merges one batch while
    Python reads the next: the two cores work at once. Nothing is visible until
    the single commit at the end. Inside a transaction (tests) it all runs inline.
    """

    def __init__(self, campaign):
        self.campaign = campaign
        self.reanalyzed = False

    def write(self, rows, progress, saving):
        counts = Counts()
        if connection.in_atomic_block:
            with transaction.atomic(), connection.cursor() as cursor:
                self._begin(cursor)
                for batch, last_row in _batches(rows, COPY_CHUNK):
                    self._merge_batch(cursor, batch, counts)
                    progress(last_row)
                saving()
                cursor.execute("DROP TABLE import_households, import_people")
            return counts
        return self._write_pipelined(rows, progress, saving, counts)

    def _write_pipelined(self, rows, progress, saving, counts):
        batches = queue.Queue(maxsize=1)
        failure = []

        def merge_all():
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    self._begin(cursor)
                    while (batch := batches.get()) is not None:
                        self._merge_batch(cursor, batch, counts)
            except BaseException as exc:  # handed to the reading thread, which raises it
                failure.append(exc)
                while batches.get() is not None:
                    pass  # drain so the reader never blocks on a dead worker
            finally:
                connection.close()

        worker = threading.Thread(target=merge_all, name="import-merge", daemon=True)
        worker.start()
        try:
            for batch, last_row in _batches(rows, COPY_CHUNK):
                if failure:
                    break
                batches.put(batch)
                progress(last_row)
            saving()
        finally:
            batches.put(None)
            worker.join()
        if failure:
            raise failure[0]
        return counts

    def _begin(self, cursor):
        # The merges sort each batch: in memory, not in temporary files. The import can be
        # rerun, so its commit need not wait for the disk. Every join here is a staged batch
        # against a big table by a unique key: index probes, never hashing the big table.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [IMPORT_LOCK, self.campaign.pk])
        self._analyze(cursor)
        cursor.execute("DROP TABLE IF EXISTS import_households, import_people")
        cursor.execute(_STAGE_DDL)

    def _analyze(self, cursor):
        """Fresh statistics on the campaign's rows.

        With none (a new campaign, or one that grew since), the planner takes the
        campaign's rows for a handful and looks households up by campaign alone:
        a scan per staged row.
        """
        cursor.execute("ANALYZE turf_household (campaign_id, address_key)")
        cursor.execute("ANALYZE turf_person (campaign_id, external_id, household_id)")

    def _merge_batch(self, cursor, batch, counts):
        households, people = {}, {}
        for row in batch:
            values = row[1:]
            households[values[13]] = values
            if values[0]:
                people[values[0]] = values
            else:
                people[(values[13], values[1].lower(), values[2].lower())] = values
        counts.rows_imported += len(batch)
        raw = cursor.cursor
        with raw.copy(f"COPY import_households ({HOUSEHOLD_STAGE_COLUMNS}) FROM STDIN") as copy:
            pick = operator.itemgetter(*HOUSEHOLD_STAGE)
            for values in households.values():
                copy.write_row(pick(values))
        with raw.copy(f"COPY import_people ({PEOPLE_STAGE_COLUMNS}) FROM STDIN") as copy:
            pick = operator.itemgetter(*PEOPLE_STAGE)
            for values in people.values():
                copy.write_row(pick(values))
        params = {"campaign": self.campaign.pk, "now": timezone.now()}
        cursor.execute(_FIND_HOUSEHOLDS, params)
        cursor.execute(_UPDATE_HOUSEHOLDS, params)
        cursor.execute(_INSERT_HOUSEHOLDS, params)
        created = cursor.rowcount
        counts.households_created += created
        # Most of a big first batch was new: the campaign is growing well past what the
        # statistics taken at the start know.
        grown = not self.reanalyzed and created >= 5_000 and created >= len(households) // 2
        if grown:
            cursor.execute("ANALYZE turf_household (campaign_id, address_key)")
        cursor.execute(_FIND_PEOPLE, params)
        cursor.execute(_FIND_PEOPLE_WITH_ID, params)
        cursor.execute(_FIND_PEOPLE_NO_ID, params)
        cursor.execute(_UPDATE_PEOPLE, params)
        counts.people_updated += cursor.rowcount
        cursor.execute(_INSERT_PEOPLE, params)
        counts.people_created += cursor.rowcount
        if grown:
            cursor.execute("ANALYZE turf_person (campaign_id, external_id, household_id)")
            self.reanalyzed = True
        cursor.execute("TRUNCATE import_households, import_people")


IMPORT_LOCK = 7304  # advisory lock class for imports; the second key is the campaign


def _batches(rows, size):
    """(list of (row number, *values), last row number) in groups of `size`."""
    batch = []
    for row_number, values in rows:
        batch.append((row_number, *values))
        if len(batch) == size:
            yield batch, row_number
            batch = []
    if batch:
        yield batch, batch[-1][0]


class BatchWriter:
    """The portable path (SQLite): batches through the ORM, each batch in its own transaction.

    Slower, and a crash part-way leaves the batches before it written; a rerun
    of the same file then completes it without duplicates.
    """

    def __init__(self, campaign):
        self.campaign = campaign

    def write(self, rows, progress, saving):
        counts = Counts()
        batch = []
        row_number = None
        for row_number, values in rows:
            batch.append(values)
            if len(batch) == BATCH:
                self._write_batch(batch, counts)
                batch = []
                progress(row_number)
        if batch:
            self._write_batch(batch, counts)
        progress(row_number)
        saving()
        return counts

    @transaction.atomic
    def _write_batch(self, batch, counts):
        campaign = self.campaign
        counts.rows_imported += len(batch)
        staged = [dict(zip(STAGE_COLUMNS, values, strict=True)) for values in batch]
        households = self._households(staged, counts)
        with_id, without_id = {}, {}
        for row in staged:
            row["household_id"] = households[row["address_key"]]
            if row["external_id"]:
                with_id[row["external_id"]] = row
            else:
                name = (row["household_id"], row["first_name"].lower(), row["last_name"].lower())
                without_id[name] = row
        existing = {
            person.external_id: person
            for person in Person.objects.filter(campaign=campaign, external_id__in=list(with_id))
        }
        for person in Person.objects.filter(
            campaign=campaign,
            external_id="",
            household_id__in={key[0] for key in without_id},
        ):
            existing[(person.household_id, person.first_name.lower(), person.last_name.lower())] = (
                person
            )
        create, update = [], []
        for key, row in [*with_id.items(), *without_id.items()]:
            person = existing.get(key)
            if person is None:
                create.append(
                    Person(
                        campaign=campaign,
                        household_id=row["household_id"],
                        first_name=row["first_name"],
                        last_name=row["last_name"],
                        phone=row["phone"],
                        email=row["email"],
                        language=row["language"],
                        external_id=row["external_id"],
                    )
                )
                continue
            before = (
                person.household_id,
                person.first_name,
                person.last_name,
                person.phone,
                person.email,
                person.language,
            )
            person.household_id = row["household_id"]
            person.first_name = row["first_name"]
            person.last_name = row["last_name"]
            person.phone = row["phone"] or person.phone
            person.email = row["email"] or person.email
            person.language = row["language"] or person.language
            after = (
                person.household_id,
                person.first_name,
                person.last_name,
                person.phone,
                person.email,
                person.language,
            )
            if after != before:
                update.append(person)
        Person.objects.bulk_create(create)
        Person.objects.bulk_update(
            update, ["household_id", "first_name", "last_name", "phone", "email", "language"]
        )
        counts.people_created += len(create)
        counts.people_updated += len(update)

    def _households(self, staged, counts):
        by_key = {}
        for row in staged:
            by_key[row["address_key"]] = row  # the last row for an address wins, as on PostgreSQL
        existing = {
            household.address_key: household
            for household in Household.objects.filter(
                campaign=self.campaign, address_key__in=list(by_key)
            )
        }
        create, update = [], []
        for key, row in by_key.items():
            parts = household_parts(row)
            household = existing.get(key)
            if household is None:
                create.append(
                    Household(
                        campaign=self.campaign,
                        house_number=row["house_number"],
                        street=row["street"],
                        unit=row["unit"],
                        city=row["city"],
                        state=row["state"],
                        zip_code=row["zip_code"],
                        address_key=key,
                        precinct=row["precinct"],
                        address_parts=parts,
                        lat=row["lat"],
                        lng=row["lng"],
                    )
                )
                continue
            before = (household.precinct, household.address_parts, household.lat, household.lng)
            household.precinct = row["precinct"] or household.precinct
            household.address_parts = parts
            household.lat = row["lat"] if row["lat"] is not None else household.lat
            household.lng = row["lng"] if row["lng"] is not None else household.lng
            if (household.precinct, household.address_parts, household.lat, household.lng) != (
                before
            ):
                update.append(household)
        Household.objects.bulk_create(create)
        Household.objects.bulk_update(update, ["precinct", "address_parts", "lat", "lng"])
        counts.households_created += len(create)
        ids = dict(
            Household.objects.filter(
                campaign=self.campaign, address_key__in=list(by_key)
            ).values_list("address_key", "id")
        )
        return ids


def _writer_for(campaign, fast):
    if fast and connection.vendor == "postgresql":
        return PostgresWriter(campaign)
    return BatchWriter(campaign)


# --- The import as a whole --------------------------------------------------------

PROGRESS_EVERY = 1.0  # seconds between progress writes to the job row


def import_job_create(
    *, campaign, created_by=None, upload=None, original_name="", preset="", column_mapping=None
):
    """Record an import (and store the uploaded file, if any) before it is mapped and run."""
    job = ImportJob(
        campaign=campaign,
        created_by=created_by,
        original_name=original_name or (upload.name if upload else ""),
        preset=preset,
        column_mapping=column_mapping or {},
    )
    if upload is not None:
        job.file.save(Path(upload.name).name, upload, save=False)
    job.save()
    return job


def import_job_fail(*, job, message, actor=None):
    """Mark `job` failed with one clear message, and audit the attempt. Nothing else is written."""
    job.status = ImportJob.Status.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    AuditEvent.objects.create(
        campaign=job.campaign,
        actor=actor or job.created_by,
        action="voters.import_failed",
        target=f"import {job.pk}: {job.original_name}"[:200],
        detail={"error": message, "preset": job.preset},
    )
    return job


def import_job_run(
    *,
    job,
    path=None,
    has_header=None,
    progress: Callable[[ImportJob], None] | None = None,
    fast=True,
):
    """Read, normalise and write the voter file of `job`. Returns the job, done or failed.

    A file that cannot be read at all fails the job with one message and writes
    no household or person. Good rows go in; each bad row is kept in
    job.error_report with its row number, column and reason.
    """
    path = Path(path or job.file.path)
    campaign = job.campaign
    started = time.monotonic()
    try:
        preset = preset_get(campaign=campaign, name=job.preset) if job.preset else None
        if has_header is None:
            has_header = job.has_header
        if has_header is None and preset:
            has_header = preset.has_header
        mapping = job.column_mapping or (preset.mapping if preset else {})
        shape = file_inspect(path=path, has_header=has_header)
        resolved = mapping_resolve(mapping or mapping_guess(shape), shape)
    except ImportFileError as exc:
        return import_job_fail(job=job, message=str(exc))

    job.status = ImportJob.Status.RUNNING
    job.phase = ImportJob.Phase.READING
    job.rows_total = shape.data_rows
    job.rows_done = 0
    job.encoding = shape.encoding
    job.delimiter = shape.delimiter
    job.has_header = shape.has_header
    job.column_mapping = mapping_by_name(resolved, shape)
    job.save()

    column_names = {i: name for i, name in shape.column_choices()}
    if shape.has_header:
        column_names = dict(enumerate(shape.header))
    normalise = Normaliser(mapping=resolved, region=campaign.phone_region)
    report = Report()
    last_write = [time.monotonic()]

    def on_progress(row_number):
        now = time.monotonic()
        if row_number is not None:
            job.rows_done = row_number - (1 if shape.has_header else 0)
        if now - last_write[0] >= PROGRESS_EVERY:
            last_write[0] = now
            ImportJob.objects.filter(pk=job.pk).update(
                rows_done=job.rows_done, rows_failed=report.failed
            )
        if progress:
            progress(job)

    def on_saving():
        job.phase = ImportJob.Phase.SAVING
        ImportJob.objects.filter(pk=job.pk).update(
            phase=job.phase, rows_done=job.rows_total, rows_failed=report.failed
        )
        if progress:
            progress(job)

    rows = _rows(path, shape, normalise, column_names, report)
    writer = _writer_for(campaign, fast)
    try:
        counts = writer.write(rows, on_progress, on_saving)
    except Exception as exc:
        import_job_fail(job=job, message=f"The import stopped: {exc}")
        raise
    finally:
        address_parse.cache_clear()

    with transaction.atomic():
        job.status = ImportJob.Status.DONE
        job.phase = ImportJob.Phase.DONE
        job.rows_done = job.rows_total
        job.rows_imported = counts.rows_imported
        job.rows_failed = report.failed
        job.people_created = counts.people_created
        job.people_updated = counts.people_updated
        job.households_created = counts.households_created
        job.error_report = report.errors
        job.finished_at = timezone.now()
        job.save()
        AuditEvent.objects.create(
            campaign=campaign,
            actor=job.created_by,
            action="voters.import",
            target=f"import {job.pk}: {job.original_name}"[:200],
            detail={
                "rows": job.rows_total,
                "imported": counts.rows_imported,
                "failed": report.failed,
                "people_created": counts.people_created,
                "people_updated": counts.people_updated,
                "households_created": counts.households_created,
                "preset": job.preset,
                "seconds": round(time.monotonic() - started, 2),
            },
        )
    if progress:
        progress(job)
    return job


def voters_import(*, campaign, path, preset="", column_mapping=None, actor=None, progress=None):
    """Import the file at `path` into `campaign` now (the command line's way)."""
    job = import_job_create(
        campaign=campaign,
        created_by=actor,
        original_name=Path(path).name,
        preset=preset,
        column_mapping=column_mapping,
    )
    return import_job_run(job=job, path=path, progress=progress)


def error_report_rows(job) -> Iterator[list]:
    """The downloadable report: a header, then one line per bad row."""
    yield ["row", "column", "reason", "value"]
    for error in job.error_report:
        yield [error["row"], error["column"], error["reason"], error.get("value", "")]
    if job.rows_failed > len(job.error_report):
        yield ["", "", f"…and {job.rows_failed - len(job.error_report)} more bad rows", ""]
