"""The built-in layouts: the files states really publish, and the VAN-style export.

Each preset is documented, with its source, in docs/voter-files.md. Mappings
name columns by the layout's own column names (the header, or for a file with
no header the names the state's layout document gives); a list of columns is a
composite field, its cells joined with spaces ("area code" + "number").

Voter status: `status` names the column holding it and how its codes read;
removed and denied voters are left out (counted, never doors). `left_out`
lists other (column, value, reason) rules, such as Florida's public-records
exemption.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIVE, INACTIVE, REMOVED, DENIED = "active", "inactive", "removed", "denied"
# Statuses whose voters are not made into doors.
NOT_DOORS = frozenset({REMOVED, DENIED})


@dataclass(frozen=True)
class Preset:
    """A known file layout: which column holds which field, by name or position."""

    name: str
    label: str
    has_header: bool
    mapping: dict
    # The layout's column names, for a file without a header (and for its extra fields).
    columns: tuple = ()
    # Fixed-width files: (start, end) character positions of each column, 0-based.
    widths: tuple = ()
    delimiter: str = ""  # "" → found from the file
    encoding: str = ""  # "" → found from the file
    # (column, {code: status}) — codes not listed are taken as given, lowercased.
    status: tuple = ()
    # ((column, value, reason), …): rows left out of the import, counted by reason.
    left_out: tuple = ()
    source: str = ""  # where the state documents the layout


def _names(text):
    return tuple(text.split())


# North Carolina State Board of Elections, statewide ncvoter file (layout_ncvoter.txt).
NC_COLUMNS = _names(
    """county_id county_desc voter_reg_num ncid last_name first_name middle_name
    name_suffix_lbl status_cd voter_status_desc reason_cd voter_status_reason_desc
    res_street_address res_city_desc state_cd zip_code mail_addr1 mail_addr2 mail_addr3
    mail_addr4 mail_city mail_state mail_zipcode full_phone_number confidential_ind registr_dt
    race_code ethnic_code party_cd gender_code birth_year age_at_year_end birth_state
    drivers_lic precinct_abbrv precinct_desc municipality_abbrv municipality_desc ward_abbrv
    ward_desc cong_dist_abbrv super_court_abbrv judic_dist_abbrv nc_senate_abbrv
    nc_house_abbrv county_commiss_abbrv county_commiss_desc township_abbrv township_desc
    school_dist_abbrv school_dist_desc fire_dist_abbrv fire_dist_desc water_dist_abbrv
    water_dist_desc sewer_dist_abbrv sewer_dist_desc sanit_dist_abbrv sanit_dist_desc
    rescue_dist_abbrv rescue_dist_desc munic_dist_abbrv munic_dist_desc dist_1_abbrv
    dist_1_desc vtd_abbrv vtd_desc"""
)

# Florida Division of Elections, county voter extract (Voter Extract File Layout).
FL_COLUMNS = (
    "County Code",
    "Voter ID",
    "Name Last",
    "Name Suffix",
    "Name First",
    "Name Middle",
    "Requested public records exemption",
    "Residence Address Line 1",
    "Residence Address Line 2",
    "Residence City (USPS)",
    "Residence State",
    "Residence Zipcode",
    "Mailing Address Line 1",
    "Mailing Address Line 2",
    "Mailing Address Line 3",
    "Mailing City",
    "Mailing State",
    "Mailing Zipcode",
    "Mailing Country",
    "Gender",
    "Race",
    "Birth Date",
    "Registration Date",
    "Party Affiliation",
    "Precinct",
    "Precinct Group",
    "Precinct Split",
    "Precinct Suffix",
    "Voter Status",
    "Congressional District",
    "House District",
    "Senate District",
    "County Commission District",
    "School Board District",
    "Daytime Area Code",
    "Daytime Phone Number",
    "Daytime Phone Extension",
    "Email address",
)

# Ohio Secretary of State, statewide voter file (SWVF): 46 columns, then one per election.
OH_COLUMNS = _names(
    """SOS_VOTERID COUNTY_NUMBER COUNTY_ID LAST_NAME FIRST_NAME MIDDLE_NAME SUFFIX
    DATE_OF_BIRTH REGISTRATION_DATE VOTER_STATUS PARTY_AFFILIATION RESIDENTIAL_ADDRESS1
    RESIDENTIAL_SECONDARY_ADDR RESIDENTIAL_CITY RESIDENTIAL_STATE RESIDENTIAL_ZIP
    RESIDENTIAL_ZIP_PLUS4 RESIDENTIAL_COUNTRY RESIDENTIAL_POSTALCODE MAILING_ADDRESS1
    MAILING_SECONDARY_ADDRESS MAILING_CITY MAILING_STATE MAILING_ZIP MAILING_ZIP_PLUS4
    MAILING_COUNTRY MAILING_POSTAL_CODE CAREER_CENTER CITY CITY_SCHOOL_DISTRICT
    COUNTY_COURT_DISTRICT CONGRESSIONAL_DISTRICT COURT_OF_APPEALS EDU_SERVICE_CENTER_DISTRICT
    EXEMPTED_VILL_SCHOOL_DISTRICT LIBRARY LOCAL_SCHOOL_DISTRICT MUNICIPAL_COURT_DISTRICT
    PRECINCT_NAME PRECINCT_CODE STATE_BOARD_OF_EDUCATION STATE_REPRESENTATIVE_DISTRICT
    STATE_SENATE_DISTRICT TOWNSHIP VILLAGE WARD"""
)

# Pennsylvania Department of State, Full Voter Export (FVE) county files: 153 columns.
PA_COLUMNS = (
    (
        "ID Number",
        "Title",
        "Last Name",
        "First Name",
        "Middle Name",
        "Suffix",
        "Gender",
        "DOB",
        "Registration Date",
        "Voter Status",
        "Status Change Date",
        "Party Code",
        "House Number",
        "House Number Suffix",
        "Street Name",
        "Apartment Number",
        "Address Line 2",
        "City",
        "State",
        "Zip",
        "Mail Address 1",
        "Mail Address 2",
        "Mail City",
        "Mail State",
        "Mail Zip",
        "Last Vote Date",
        "Precinct Code",
        "Precinct Split ID",
        "Date Last Changed",
        "Customer Assigned ID",
    )
    + tuple(f"District {n}" for n in range(1, 41))
    + tuple(
        name for n in range(1, 41) for name in (f"Election {n} Vote Method", f"Election {n} Party")
    )
    + ("Home Phone", "County", "Mail Country")
)

# Michigan Bureau of Elections, Qualified Voter File, entire_state_v.lst (fixed width).
MI_FIELDS = (
    ("LAST_NAME", 0, 35),
    ("FIRST_NAME", 35, 55),
    ("MIDDLE_NAME", 55, 75),
    ("NAME_SUFFIX", 75, 78),
    ("BIRTH_YEAR", 78, 82),
    ("GENDER", 82, 83),
    ("DATE_OF_REGISTRATION", 83, 91),
    ("HOUSE_NUM_CHARACTER", 91, 92),
    ("RESIDENCE_STREET_NUMBER", 92, 99),
    ("HOUSE_SUFFIX", 99, 103),
    ("PRE_DIRECTION", 103, 105),
    ("STREET_NAME", 105, 135),
    ("STREET_TYPE", 135, 141),
    ("SUFFIX_DIRECTION", 141, 143),
    ("RESIDENCE_EXTENSION", 143, 156),
    ("CITY", 156, 191),
    ("STATE", 191, 193),
    ("ZIP", 193, 198),
    ("MAIL_ADDR_1", 198, 248),
    ("MAIL_ADDR_2", 248, 298),
    ("MAIL_ADDR_3", 298, 348),
    ("MAIL_ADDR_4", 348, 398),
    ("MAIL_ADDR_5", 398, 448),
    ("VOTER_ID", 448, 461),
    ("COUNTY_CODE", 461, 463),
    ("JURISDICTION", 463, 468),
    ("WARD_PRECINCT", 468, 474),
    ("SCHOOL_CODE", 474, 479),
    ("STATE_HOUSE", 479, 484),
    ("STATE_SENATE", 484, 489),
    ("US_CONGRESS", 489, 494),
    ("COUNTY_COMMISSIONER", 494, 499),
    ("VILLAGE_CODE", 499, 504),
    ("VILLAGE_PRECINCT", 504, 510),
    ("SCHOOL_PRECINCT", 510, 516),
    ("PERMANENT_ABSENTEE_IND", 516, 517),
    ("STATUS_TYPE", 517, 519),
    ("UOCAVA_STATUS", 519, 520),
)

PRESETS = {
    preset.name: preset
    for preset in [
        Preset(
            name="north-carolina",
            label="North Carolina statewide voter file (ncvoter, tab, header, 67 columns)",
            has_header=True,
            delimiter="\t",
            encoding="latin-1",
            columns=NC_COLUMNS,
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
            status=(
                "status_cd",
                {"A": ACTIVE, "I": INACTIVE, "R": REMOVED, "D": DENIED, "S": "temporary"},
            ),
            source="https://dl.ncsbe.gov/data/layout_ncvoter.txt",
        ),
        Preset(
            name="florida",
            label="Florida county voter extract (tab, no header, 38 columns)",
            has_header=False,
            delimiter="\t",
            columns=FL_COLUMNS,
            mapping={
                "external_id": "Voter ID",
                "last_name": "Name Last",
                "first_name": "Name First",
                "address": ["Residence Address Line 1", "Residence Address Line 2"],
                "city": "Residence City (USPS)",
                "state": "Residence State",
                "zip_code": "Residence Zipcode",
                "precinct": "Precinct",
                "phone": ["Daytime Area Code", "Daytime Phone Number"],
                "email": "Email address",
            },
            status=("Voter Status", {"ACT": ACTIVE, "INA": INACTIVE}),
            left_out=(("Requested public records exemption", "Y", "public-records exemption"),),
            source="https://dos.fl.gov/elections/data-statistics/voter-registration-statistics/"
            "voter-extract-disk-request/",
        ),
        Preset(
            name="ohio",
            label="Ohio statewide voter file (SWVF, CSV, header, 46 columns then elections)",
            has_header=True,
            delimiter=",",
            columns=OH_COLUMNS,
            mapping={
                "external_id": "SOS_VOTERID",
                "last_name": "LAST_NAME",
                "first_name": "FIRST_NAME",
                "address": ["RESIDENTIAL_ADDRESS1", "RESIDENTIAL_SECONDARY_ADDR"],
                "city": "RESIDENTIAL_CITY",
                "state": "RESIDENTIAL_STATE",
                "zip_code": "RESIDENTIAL_ZIP",
                "precinct": "PRECINCT_NAME",
            },
            status=("VOTER_STATUS", {"ACTIVE": ACTIVE, "CONFIRMATION": INACTIVE}),
            source="https://www6.ohiosos.gov/ords/f?p=VOTERFTP:HOME",
        ),
        Preset(
            name="pennsylvania",
            label="Pennsylvania county Full Voter Export (FVE, tab, no header, 153 columns)",
            has_header=False,
            delimiter="\t",
            columns=PA_COLUMNS,
            mapping={
                "external_id": "ID Number",
                "last_name": "Last Name",
                "first_name": "First Name",
                "house_number": ["House Number", "House Number Suffix"],
                "street": "Street Name",
                "unit": "Apartment Number",
                "city": "City",
                "state": "State",
                "zip_code": "Zip",
                "precinct": "Precinct Code",
                "phone": "Home Phone",
            },
            status=("Voter Status", {"A": ACTIVE, "I": INACTIVE}),
            source="https://www.pa.gov/agencies/dos/resources/voting-and-elections-resources/"
            "full-voter-export",
        ),
        Preset(
            name="michigan",
            label="Michigan Qualified Voter File (fixed width, entire_state_v.lst)",
            has_header=False,
            columns=tuple(name for name, _, _ in MI_FIELDS),
            widths=tuple((start, end) for _, start, end in MI_FIELDS),
            mapping={
                "external_id": "VOTER_ID",
                "last_name": "LAST_NAME",
                "first_name": "FIRST_NAME",
                "address": [
                    "HOUSE_NUM_CHARACTER",
                    "RESIDENCE_STREET_NUMBER",
                    "HOUSE_SUFFIX",
                    "PRE_DIRECTION",
                    "STREET_NAME",
                    "STREET_TYPE",
                    "SUFFIX_DIRECTION",
                ],
                "unit": "RESIDENCE_EXTENSION",
                "city": "CITY",
                "state": "STATE",
                "zip_code": "ZIP",
                "precinct": "WARD_PRECINCT",
            },
            status=(
                "STATUS_TYPE",
                {"A": ACTIVE, "V": ACTIVE, "CH": ACTIVE, "C": REMOVED, "R": DENIED},
            ),
            source="https://www.michigan.gov/sos/elections (Qualified Voter File, FOIA request)",
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
            source="VAN / EveryAction list export with the default columns",
        ),
    ]
}
