"""A universe to cut turf from: the doors where someone matches the voter-file filters.

"Unaffiliated voters under 40 in precinct 12": party, age (from a birth year, a birth
date or an age column), gender, precinct, voter status, and any other voter-file column
by name. The columns are the person's extra fields, whatever the state's layout calls
them; the layout's own names are looked up (party_cd, Party Affiliation, PARTY_AFFILIATION…).
Every filter is on the same person: a door is in the universe when one active person
living there matches them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Left, Right
from django.utils import timezone

from turf.models import Household, Person

# Each layout's names for the columns a universe is usually built from.
PARTY_COLUMNS = ("party_cd", "Party Affiliation", "PARTY_AFFILIATION", "Party Code", "Party")
GENDER_COLUMNS = ("gender_code", "Gender", "GENDER", "Sex", "sex")
BIRTH_YEAR_COLUMNS = ("birth_year", "Birth Year", "BirthYear", "YearOfBirth")
BIRTH_DATE_COLUMNS = ("Birth Date", "DATE_OF_BIRTH", "DOB", "DateOfBirth", "birth_date")
AGE_COLUMNS = ("age_at_year_end", "Age", "age")
SAMPLE = 500  # people read to learn which columns the campaign's voter file has


@dataclass
class Universe:
    parties: list[str] = field(default_factory=list)
    age_min: int | None = None
    age_max: int | None = None
    gender: str = ""
    precinct: str = ""
    voter_status: str = ""
    where: dict[str, list[str]] = field(default_factory=dict)  # any column: its values

    def __bool__(self):
        return bool(
            self.parties
            or self.age_min is not None
            or self.age_max is not None
            or self.gender
            or self.precinct
            or self.voter_status
            or self.where
        )

    def describe(self):
        """ "party UNA, age 18 to 39, precinct 12" """
        said = []
        if self.parties:
            said.append(f"party {' or '.join(self.parties)}")
        if self.age_min is not None or self.age_max is not None:
            if self.age_max is None:
                said.append(f"age {self.age_min} or over")
            elif self.age_min is None:
                said.append(f"age {self.age_max} or under")
            else:
                said.append(f"age {self.age_min} to {self.age_max}")
        if self.gender:
            said.append(f"gender {self.gender}")
        if self.voter_status:
            said.append(f"voter status {self.voter_status}")
        said += [f"{name} {' or '.join(values)}" for name, values in self.where.items()]
        if self.precinct:
            said.append(f"precinct {self.precinct}")
        return ", ".join(said) or "everyone"

    @property
    def people_filtered(self):
        """True when the universe picks people, not only a precinct."""
        return bool(self) and self != Universe(precinct=self.precinct)


def extra_columns(campaign):
    """The voter-file columns kept on the campaign's people (from a sample of them)."""
    names = set()
    sample = (
        Person.objects.filter(campaign=campaign).exclude(extra={}).values_list("extra", flat=True)
    )
    for extra in sample[:SAMPLE]:
        names.update(extra)
    return names


def _first(names, columns):
    return next((name for name in names if name in columns), None)


def column_for(campaign, names, what, columns=None):
    """The campaign's column for `what` among the layouts' `names`, or ValidationError."""
    columns = extra_columns(campaign) if columns is None else columns
    found = _first(names, columns)
    if found is None:
        raise ValidationError(
            f"The voter file imported for this campaign has no {what} column "
            f"(looked for {', '.join(names)})."
        )
    return found


def _birth_year(column):
    """The year out of a birth year (1987), an ISO date (1987-05-02) or a US date (05/02/1987)."""
    text = KeyTextTransform(column, "extra")
    lookup = f"extra__{column}__regex"
    return models.Case(
        models.When(Q(**{lookup: r"^[0-9]{4}$"}), then=Cast(text, models.IntegerField())),
        models.When(
            Q(**{lookup: r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"}),
            then=Cast(Left(text, 4), models.IntegerField()),
        ),
        models.When(
            Q(**{lookup: r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"}),
            then=Cast(Right(text, 4), models.IntegerField()),
        ),
        default=None,
        output_field=models.IntegerField(),
    )


def universe_people(campaign, universe, *, today=None):
    """The campaign's active people who match every filter of `universe`."""
    columns = extra_columns(campaign)
    where = {name: list(values) for name, values in universe.where.items()}
    unknown = sorted(name for name in where if name not in columns)
    if unknown:
        known = ", ".join(sorted(columns)[:40]) or "none: import a voter file with more columns"
        raise ValidationError(
            f"No voter-file column called {', '.join(unknown)} in this campaign. "
            f"Its columns: {known}."
        )
    if universe.parties:
        party = column_for(campaign, PARTY_COLUMNS, "party", columns)
        where[party] = [*where.get(party, []), *universe.parties]
    if universe.gender:
        gender = column_for(campaign, GENDER_COLUMNS, "gender", columns)
        where[gender] = [universe.gender]
    people = Person.objects.filter(campaign=campaign).universe(
        where={name: _spellings(values) for name, values in where.items()}
    )
    if universe.voter_status:
        people = people.filter(voter_status__iexact=universe.voter_status)
    if universe.age_min is not None or universe.age_max is not None:
        people = _by_age(people, campaign, universe, columns, today or timezone.localdate())
    if universe.precinct:
        people = people.filter(household__precinct=universe.precinct)
    return people


def _spellings(values):
    """A value as typed and in capitals: layouts write codes in capitals ("UNA", "F")."""
    return sorted({v for value in values for v in (value, value.upper())})


def _by_age(people, campaign, universe, columns, today):
    # Age is the age reached this year (NC's age_at_year_end): this year less the birth year.
    year = today.year
    birth = _first(BIRTH_YEAR_COLUMNS, columns) or _first(BIRTH_DATE_COLUMNS, columns)
    if birth is not None:
        people = people.annotate(_universe_birth_year=_birth_year(birth))
        if universe.age_max is not None:
            people = people.filter(_universe_birth_year__gte=year - universe.age_max)
        if universe.age_min is not None:
            people = people.filter(_universe_birth_year__lte=year - universe.age_min)
        return people
    age = column_for(campaign, AGE_COLUMNS + BIRTH_YEAR_COLUMNS + BIRTH_DATE_COLUMNS, "age")
    at_least = {age: universe.age_min} if universe.age_min is not None else None
    below = {age: universe.age_max + 1} if universe.age_max is not None else None
    return people.universe(at_least=at_least, below=below)


def universe_households(campaign, universe, *, today=None):
    """The campaign's doors where at least one active person matches `universe`."""
    households = Household.objects.filter(campaign=campaign)
    if universe.precinct:
        households = households.filter(precinct=universe.precinct)
    if not universe.people_filtered:
        return households
    people = universe_people(campaign, universe, today=today)
    return households.filter(Exists(people.filter(household=OuterRef("pk"))))


def parse_where(lines):
    """{column: [values]} from "name=value" lines or items; values may be "A,B"."""
    where = {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip() or not value.strip():
            raise ValidationError(
                f"“{line}” is not a filter: write the column's name, “=”, and the value "
                "(several values separated by commas), e.g. cong_dist_abbrv=4."
            )
        values = [v.strip() for v in value.split(",") if v.strip()]
        where.setdefault(name.strip(), []).extend(values)
    return where


def universe_doors(campaign, universe, *, today=None):
    """(doors in the universe, of them not on a turf yet); ValidationError when there are none."""
    households = universe_households(campaign, universe, today=today)
    doors = households.count()
    if not doors and universe.people_filtered:
        raise ValidationError(
            f"No active voter of campaign “{campaign}” matches {universe.describe()}: "
            "there is no door to cut."
        )
    return doors, households.filter(stops__isnull=True).count()
