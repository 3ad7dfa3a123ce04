"""Normalising: one row's cells into the values written for a person and a household.

Phones through phonenumbers, addresses through usaddress (with a fast path for
the plainest shapes), and the household key that groups people at one door.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from dataclasses import dataclass, field

import phonenumbers
import usaddress
from django.core.exceptions import ValidationError
from scourgify.address_constants import (
    DIRECTIONAL_REPLACEMENTS,
    OCCUPANCY_TYPE_ABBREVIATIONS,
    STATE_ABBREVIATIONS,
    STREET_TYPE_ABBREVIATIONS,
)

from canvass.models import validate_timezone
from canvass.phones import phone_normalize
from turf.imports.errors import LeftOut, RowError
from turf.imports.presets import ACTIVE, DENIED, INACTIVE, NOT_DOORS, REMOVED

MAX_EXTRA_VALUE = 500
# Voter-status codes any layout may use; a preset adds its own.
STATUS_CODES = {
    "A": ACTIVE,
    "ACT": ACTIVE,
    "ACTIVE": ACTIVE,
    "I": INACTIVE,
    "INA": INACTIVE,
    "INACTIVE": INACTIVE,
    "R": REMOVED,
    "REMOVED": REMOVED,
    "CANCELLED": REMOVED,
    "D": DENIED,
    "DENIED": DENIED,
}


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


@functools.lru_cache(maxsize=262_144)
def _crf_labels(tokens):
    """usaddress's labels for these tokens, one per token (its parse, cached)."""
    return tuple(usaddress.TAGGER.tag(_crf_features(tokens)))


@functools.lru_cache(maxsize=65_536)
def _token_features(token):
    return usaddress.tokenFeatures(token)


def _crf_features(tokens):
    """usaddress.tokens2features(tokens), each token's own features cached (a street's words
    come again and again): the same dictionaries, built the same way."""
    sequence = [dict(_token_features(tokens[0]))]
    previous = dict(sequence[-1])
    for token in tokens[1:]:
        features = dict(_token_features(token))
        current = dict(features)
        sequence[-1]["next"] = current
        features["previous"] = previous
        sequence.append(features)
        previous = current
    sequence[0]["address.start"] = True
    sequence[-1]["address.end"] = True
    if len(sequence) > 1:
        sequence[1]["previous"]["address.start"] = True
        sequence[-2]["next"]["address.end"] = True
    return sequence


def _digits_shape(token):
    """A stand-in for a token of plain digits that usaddress cannot tell from it: its CRF
    sees such a token only through its length and its trailing zeros ("4172" → "1111")."""
    zeros = len(token) - len(token.rstrip("0"))
    return "1" * (len(token) - zeros) + "0" * zeros


def _usaddress_tag(line):
    """usaddress.tag(line), with the CRF's labels cached by the line's tokens, every token
    of plain digits (house and unit numbers) replaced by its shape: so the CRF runs about
    once per street and shape of number, not once per door. The labels are the ones
    usaddress gives, since its features of such a token are those of its shape."""
    tokens = usaddress.tokenize(line)
    if not tokens:
        return usaddress.tag(line)
    key = tuple(
        _digits_shape(token) if token.isascii() and token.isdigit() else token for token in tokens
    )
    labels = _crf_labels(key)
    # The rest is usaddress.tag's own assembly of labelled tokens into components.
    components, last_label, intersection, original = {}, None, False, []
    for token, label in zip(tokens, labels, strict=True):
        if label == "IntersectionSeparator":
            intersection = True
        if "StreetName" in label and intersection:
            label = "Second" + label
        original.append(label)
        if label == last_label:
            components[label].append(token)
        elif label not in components:
            components[label] = [token]
        else:
            raise usaddress.RepeatedLabelError(line, usaddress.parse(line), label)
        last_label = label
    tagged = {label: " ".join(words).strip(" ,;") for label, words in components.items()}
    if "AddressNumber" in original and not intersection:
        kind = "Street Address"
    elif intersection and "AddressNumber" not in original:
        kind = "Intersection"
    elif "USPSBoxID" in original:
        kind = "PO Box"
    else:
        kind = "Ambiguous"
    return tagged, kind


def _library_tags(line):
    try:
        tags, kind = _usaddress_tag(line)
    except usaddress.RepeatedLabelError:
        raise RowError(
            "address", f"could not tell the house number, street and unit apart in “{line}”", line
        ) from None
    if kind == "PO Box" or "USPSBoxType" in tags:
        raise RowError("address", f"“{line}” is a PO box, not a door", line)
    return dict(tags)


def _checked(tags, line):
    if not tags.get("AddressNumber"):
        raise RowError("address", f"no house number in “{line}”", line)
    if not tags.get("StreetName"):
        raise RowError("address", f"no street name in “{line}”", line)
    return tags


# Words of a numbered road: "US 420 HWY", "NC HWY 277", "SR 1002", "OLD US 1 HWY", "CO RD 12".
_ROAD_WORDS = set(
    "US USHWY HWY HIGHWAY ROUTE RTE RT SR CR FM RR HC STATE COUNTY CO RD ROAD I INTERSTATE "
    "OLD BUSINESS BUS BYP BYPASS ALT SPUR LOOP EXT FWY FREEWAY EXPY PKWY PARKWAY".split()
) | set(STATE_ABBREVIATIONS.values())
_ROAD_NUMBER = re.compile(r"^\d{1,5}[A-Z]?$")
_FRACTION = re.compile(r"^\d{1,2}/\d{1,2}$")
_HOUSE_NUMBER_RURAL = re.compile(r"^\d{1,7}[A-Z]?$")


def _rural_tags(line):
    """Tags for a line usaddress misreads, or None. House number (and a fraction), a
    trailing unit ("LOT 195", "UNIT 398B"), then either a numbered road, kept whole as
    the street's name, or a street usaddress can read once the rest is set aside."""
    tokens = line.replace(",", " ").split()
    upper = [token.upper() for token in tokens]
    if len(tokens) < 2 or not _HOUSE_NUMBER_RURAL.match(upper[0]):
        return None
    tags = {"AddressNumber": tokens[0]}
    start, end = 1, len(tokens)
    if _FRACTION.match(upper[1]):
        tags["AddressNumberSuffix"] = tokens[1]
        start = 2
    if end - start >= 3 and upper[end - 2] in _UNIT_WORDS and upper[end - 2] != "#":
        ident = upper[end - 1]
        if _UNIT_ID.match(ident) and (any(c.isdigit() for c in ident) or len(ident) == 1):
            tags["OccupancyType"] = tokens[end - 2]
            tags["OccupancyIdentifier"] = tokens[end - 1]
            end -= 2
    elif end - start >= 2 and upper[end - 1].startswith("#") and _UNIT_ID.match(upper[end - 1]):
        tags["OccupancyIdentifier"] = tokens[end - 1]
        end -= 1
    street = tokens[start:end]
    words = upper[start:end]
    if not street:
        return None
    if words[0] in _SHORT_DIRECTIONS and len(words) > 2:
        tags["StreetNamePreDirectional"] = street.pop(0)
        words.pop(0)
    if words[-1] in _SHORT_DIRECTIONS and len(words) > 2:
        tags["StreetNamePostDirectional"] = street.pop()
        words.pop()
    numbers = [word for word in words if _ROAD_NUMBER.match(word)]
    if len(numbers) == 1 and all(w in _ROAD_WORDS or _ROAD_NUMBER.match(w) for w in words):
        tags["StreetName"] = " ".join(street)
        tags["_road"] = True  # its key spells "HIGHWAY" and "HWY" alike
        return tags
    if start == 1 and end == len(tokens):
        return None  # nothing was set aside: the library has already said no
    try:
        rest = _checked(_library_tags(" ".join([tokens[0], *street])), line)
    except RowError:
        return None
    if "OccupancyIdentifier" in rest and "OccupancyIdentifier" in tags:
        return None
    rest.update({k: v for k, v in tags.items() if k != "AddressNumber"})
    return rest


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


# A household's people come together in a voter file: a short memory of lines is enough
# (and keeps each worker's memory flat however long the file).
@functools.lru_cache(maxsize=65_536)
def address_parse(line):
    """Split one street line into display parts and a normalised key. Cached per line.

    Raises RowError when the line has no house number or street.
    """
    line = " ".join(line.split())
    tags = _fast_tags(line)
    if tags is None:
        try:
            tags = _checked(_library_tags(line), line)
        except RowError:
            # Rural shapes the library misreads: "3394 US 420 HWY", "577 1/2 CARDINAL GLEN
            # RUN", "7772 NC HWY 128 LOT 195". Only lines it cannot read come here, so the
            # keys of every address read before stay the same.
            tags = _rural_tags(line)
            if tags is None:
                raise
    number = " ".join(filter(None, [tags.get("AddressNumber"), tags.get("AddressNumberSuffix")]))
    street = " ".join(tags[label] for label in _STREET_PARTS if tags.get(label))
    if len(number) > 20 or len(street) > 200:
        raise RowError("address", "house number or street name too long", line[:40])
    key_street = " ".join(
        [number.upper()]
        + [_key_word(label, tags[label]) for label in _STREET_PARTS if tags.get(label)]
    )
    if tags.get("_road"):
        key_street = " ".join(
            STREET_TYPE_ABBREVIATIONS.get(word, word) for word in key_street.split()
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


def normalising_caches_clear():
    """Forget the addresses read (each import starts afresh; the caches hold one file's)."""
    address_parse.cache_clear()
    _crf_labels.cache_clear()
    _token_features.cache_clear()


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
        if len(digits) == 10 and _nanp_valid(region)(digits):
            return "+1" + digits
    try:
        return phone_normalize(raw, region=region)
    except ValidationError:
        raise RowError("phone", f"“{raw}” is not a valid phone number", raw) from None


_NANP_REGIONS = frozenset(phonenumbers.region_codes_for_country_code(1))
_NUMBER_TYPES = (
    "general_desc",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@functools.cache
def _nanp_valid(region):
    """A check of 10 national digits that answers as phonenumbers.is_valid_number_for_region
    does, from the same metadata compiled into one pattern: the general description, then any
    of the number types (the library tries them one by one, about 10 µs a number)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)

    def pattern(desc):
        if desc is None or desc.national_number_pattern is None:
            return None
        if desc.possible_length and 10 not in desc.possible_length:
            return None
        return desc.national_number_pattern

    general, *types = (pattern(getattr(metadata, name)) for name in _NUMBER_TYPES)
    types = [t for t in types if t]
    if general is None or not types:
        return lambda digits: False
    whole = re.compile(f"(?=(?:{general})$)(?:{'|'.join(f'(?:{t})' for t in types)})$")
    return lambda digits: whole.match(digits) is not None


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


@functools.lru_cache(maxsize=1024)
def _is_time_zone(name):
    try:
        validate_timezone(name)
    except ValidationError:
        return False
    return len(name) <= 64


class Normaliser:
    """Turns the cells of one row into the values written for a person and household."""

    def __init__(self, *, mapping, region, column_names=None, status=None, left_out=()):
        """`mapping`: field → column index, or a tuple of them (a composite field).
        `column_names`: {index: name}; the unmapped columns are kept as extra fields.
        `status`: {code: status} for the "voter_status" column. `left_out`:
        ((index, value, reason), …) rows not made into doors."""
        self.mapping = dict(mapping)
        self.get = self.mapping
        self.region = region
        simple = {f: i for f, i in self.mapping.items() if not isinstance(i, tuple)}
        self.composite = [(f, i) for f, i in self.mapping.items() if isinstance(i, tuple)]
        self.fields = list(simple)
        if simple:
            pick = operator.itemgetter(*simple.values())
            self.pick = pick if len(simple) > 1 else (lambda cells: (pick(cells),))
        else:
            self.pick = lambda cells: ()
        used = set(simple.values()) | {i for _, indexes in self.composite for i in indexes}
        self.extra_columns = [
            (index, name) for index, name in (column_names or {}).items() if index not in used
        ]
        self.extra_names = [name for _, name in self.extra_columns]
        if len(self.extra_columns) > 1:
            self.extra_pick = operator.itemgetter(*(index for index, _ in self.extra_columns))
        elif self.extra_columns:
            only = self.extra_columns[0][0]
            self.extra_pick = lambda cells: (cells[only],)
        self.status = {**STATUS_CODES, **(status or {})}
        self.has_status = "voter_status" in self.mapping
        self.left_out = tuple(left_out)
        self.has_phone = "phone" in self.mapping
        self.has_whole_line = "address" in self.mapping
        self.has_coordinates = "lat" in self.mapping or "lng" in self.mapping
        self.warnings: list[RowError] = []

    def _coordinate(self, raw, column, limit):
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            self.warnings.append(RowError(column, f"“{raw[:40]}” is not a number", raw[:40]))
            return None
        if not -limit <= value <= limit:
            self.warnings.append(RowError(column, f"{raw} is out of range (±{limit})", raw))
            return None
        return value

    def __call__(self, cells):
        """The staged values of one row; RowError when it cannot be a door or a person.

        Problems with values the door does not need are appended to `warnings`
        (the caller reports and clears them); the value is left out.
        """
        values = dict(zip(self.fields, self.pick(cells), strict=True))
        for name, indexes in self.composite:
            values[name] = " ".join(part for i in indexes if (part := cells[i].strip()))
        got = values.get
        for index, value, reason in self.left_out:
            if cells[index].strip().upper() == value:
                raise LeftOut(reason)  # not a status: someone already on a list stays
        voter_status = ""
        if self.has_status:
            code = got("voter_status", "").strip()
            voter_status = self.status.get(code.upper(), code.lower())[:20]
            if voter_status in NOT_DOORS:
                external_id = got("external_id", "").strip()[:100]
                raise LeftOut(f"voter status {voter_status}", external_id, voter_status)
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
        # A bad phone, email, language or coordinate is not a reason to lose the door:
        # the person is kept without that value and the row gets a warning.
        phone = ""
        if self.has_phone:
            try:
                phone = phone_for_import(got("phone", ""), self.region)
            except RowError as error:
                self.warnings.append(error)
        email = got("email", "").strip().lower()
        if email and ("@" not in email or " " in email or len(email) > 254):
            reason = "longer than 254 characters" if len(email) > 254 else "not an email address"
            self.warnings.append(RowError("email", f"“{email[:60]}” is {reason}", email[:60]))
            email = ""
        language = got("language", "").strip()
        if len(language) > 10:
            self.warnings.append(RowError("language", "longer than 10 characters", language[:40]))
            language = ""
        time_zone = got("timezone", "").strip()
        if time_zone and not _is_time_zone(time_zone):
            self.warnings.append(
                RowError("timezone", f"“{time_zone[:40]}” is not a time zone", time_zone[:40])
            )
            time_zone = ""
        precinct = got("precinct", "").strip()
        lat = lng = None
        if self.has_coordinates:
            lat = self._coordinate(got("lat", "").strip(), "lat", 90)
            lng = self._coordinate(got("lng", "").strip(), "lng", 180)
            if lat is None or lng is None:
                lat = lng = None  # half a coordinate is no location
        if not first_name and not last_name:
            raise RowError("last_name" if "last_name" in self.mapping else "first_name", "no name")
        if (
            len(external_id) > 100
            or len(first_name) > 100
            or len(last_name) > 100
            or len(city) > 100
            or len(state) > 40
            or len(precinct) > 60
        ):
            _too_long(
                external_id=external_id,
                first_name=first_name,
                last_name=last_name,
                city=city,
                state=state,
                precinct=precinct,
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
            voter_status,
            self._extra(cells) if self.extra_columns else "{}",
            time_zone,
        )

    def _extra(self, cells):
        """The unmapped columns' non-blank values, as JSON, for the person's extra fields."""
        pairs = zip(self.extra_names, map(str.strip, self.extra_pick(cells)), strict=True)
        extra = {name: value for name, value in pairs if value}
        if not extra:
            return "{}"
        if max(map(len, extra.values())) > MAX_EXTRA_VALUE:
            for name, value in extra.items():
                if len(value) > MAX_EXTRA_VALUE:
                    self.warnings.append(
                        RowError(name, f"longer than {MAX_EXTRA_VALUE} characters", value[:40])
                    )
            extra = {k: v for k, v in extra.items() if len(v) <= MAX_EXTRA_VALUE}
        return _to_json(extra)


# One encoder for every row (json.dumps with an option builds a new one each call).
_to_json = json.JSONEncoder(ensure_ascii=False).encode


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
    "voter_status",
    "extra",
    "timezone",
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
