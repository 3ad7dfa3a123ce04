"""Layouts: the fields a voter file can hold, the built-in presets, and column mapping.

A mapping names, for each Porchlight field, the file's column by header name or
by position; `mapping_resolve` turns it into column indexes for one file.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from turf.imports.errors import ImportFileError
from turf.imports.presets import PRESETS, Preset
from turf.models import ImportPreset

# --- What a voter file can hold -------------------------------------------------

FIELDS = {
    "external_id": "Voter ID",
    "first_name": "First name",
    "last_name": "Last name",
    "phone": "Phone",
    "email": "Email",
    "language": "Language",
    "timezone": "Time zone (e.g. America/Anchorage)",
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
    "voter_status": "Voter status",
}

# Header spellings seen in real exports, compared by norm_header() (lowercase letters, digits).
ALIASES = {
    "external_id": "ncid vanid voterid voterregnum sosvoterid statevoterid regnum "
    "voterregistrationnumber externalid personid id",
    "first_name": "firstname fname first namefirst givenname",
    "last_name": "lastname lname last namelast surname familyname",
    "phone": "phone fullphonenumber phonenumber homephone cellphone mobilephone mobile "
    "telephone tel preferredphone",
    "email": "email emailaddress preferredemail",
    "language": "language lang preferredlanguage",
    "timezone": "timezone tz timezonename ianatimezone",
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
    "voter_status": "voterstatus statuscd status registrationstatus",
}


def norm_header(header):
    return re.sub(r"[^a-z0-9]", "", header.lower())


ALIAS_TO_FIELD = {alias: name for name, aliases in ALIASES.items() for alias in aliases.split()}


# --- Column mapping -------------------------------------------------------------


def mapping_guess(shape):
    """{field: column index} from the header's names; {} for a headerless file."""
    guess = {}
    if not shape.has_header:
        return guess
    for index, name in enumerate(shape.names):
        field_name = ALIAS_TO_FIELD.get(norm_header(name))
        if field_name and field_name not in guess:
            guess[field_name] = index
    if "address" in guess and "street" in guess and "house_number" not in guess:
        del guess["street"]
    return guess


def mapping_resolve(mapping, shape):
    """{field: column index, or a tuple of them} from a mapping that names columns by
    name or position; a list of columns (or "8+9") is a composite field.

    Raises ImportFileError when the mapping cannot be used with this file.
    """
    resolved = {}
    by_name = {norm_header(name): index for index, name in enumerate(shape.names)}

    def index_of(column):
        if isinstance(column, int) or (isinstance(column, str) and column.strip().isdigit()):
            index = int(column)
        elif isinstance(column, str) and norm_header(column) in by_name:
            index = by_name[norm_header(column)]
        else:
            return None
        return index if 0 <= index < shape.columns else None

    for field_name, column in (mapping or {}).items():
        if field_name not in FIELDS or column in (None, "", []):
            continue
        if isinstance(column, str) and "+" in column:
            column = column.split("+")
        if isinstance(column, list | tuple):
            indexes = tuple(index_of(part) for part in column)
            if None in indexes:
                continue
            resolved[field_name] = indexes[0] if len(indexes) == 1 else indexes
        elif (index := index_of(column)) is not None:
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
    if "first_name" not in resolved and "last_name" not in resolved:
        raise ImportFileError(
            "No column holds a name: every door needs a person. Map “First name” or “Last name”."
        )
    return resolved


def mapping_by_name(resolved, shape):
    """A resolved mapping stored by column name when there is one (reusable as a preset)."""
    if not shape.has_header:
        return {name: list(i) if isinstance(i, tuple) else i for name, i in resolved.items()}
    return {
        name: [shape.header[i] for i in index] if isinstance(index, tuple) else shape.header[index]
        for name, index in resolved.items()
    }


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


# Names built-in presets had before, so jobs and scripts that use them keep working.
RENAMED = {"nc-voter-file": "north-carolina"}


def preset_get(*, campaign, name):
    presets = presets_for(campaign)
    name = RENAMED.get(name, name)
    if name not in presets:
        raise ImportFileError(
            f"There is no preset called “{name}”. Known presets: {', '.join(sorted(presets))}."
        )
    return presets[name]


def import_preset_name_check(name):
    """The name, stripped, if a campaign may save a preset under it; else ValidationError.

    A built-in preset's name (or label, or a name it had before) in any case is refused:
    a saved preset of that name would stand in for the built-in one on every later upload.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the preset a name.")
    limit = ImportPreset._meta.get_field("name").max_length
    if len(name) > limit:
        raise ValidationError(f"Keep the preset's name to {limit} characters.")
    if "\x00" in name:
        raise ValidationError("The preset's name holds a NUL character; type it again.")
    taken = {key.casefold() for key in [*PRESETS, *RENAMED]}
    taken |= {preset.label.casefold() for preset in PRESETS.values()}
    if name.casefold() in taken:
        raise ValidationError(f"“{name}” is a built-in preset's name. Choose another name.")
    return name


def import_preset_save(*, campaign, name, has_header, column_mapping, created_by=None):
    """Save (or replace) a campaign's named column mapping for the next file of this layout."""
    name = import_preset_name_check(name)
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


def layout_rules(preset, shape, resolved):
    """What the layout says beyond its columns, resolved for this file: the mapping with
    the voter-status column added, the status codes, and the rows left out."""
    mapping = dict(resolved)
    status, left_out = {}, []
    if preset is None:
        return {"mapping": mapping, "status": status, "left_out": left_out}
    by_name = {norm_header(name): index for index, name in enumerate(shape.names)}
    if preset.status:
        column, status = preset.status
        if "voter_status" not in mapping and norm_header(column) in by_name:
            mapping["voter_status"] = by_name[norm_header(column)]
    for column, value, reason in preset.left_out:
        if norm_header(column) in by_name:
            left_out.append((by_name[norm_header(column)], value.upper(), reason))
    return {"mapping": mapping, "status": status, "left_out": left_out}
