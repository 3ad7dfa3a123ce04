"""Writing: normalised rows into households and people, in bulk.

On PostgreSQL with COPY into a temporary table and one merge per table (in a
second thread, so reading and writing use both cores); elsewhere (the SQLite
demo) with bulk_create and bulk_update in batches. People are matched by their
external voter id within the campaign, so a re-import updates them; households
by their normalised address key.
"""

from __future__ import annotations

import json
import operator
import queue
import threading
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from turf.imports.normalising import STAGE_COLUMNS, household_parts
from turf.imports.presets import INACTIVE
from turf.models import Household, Person, Turf, TurfStop

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
    language text, address_key text, voter_status text, extra text, timezone text,
    household_id bigint, person_id bigint
);
CREATE TEMPORARY TABLE import_gone (external_id text, voter_status text);
CREATE TEMPORARY TABLE import_seen (external_id text PRIMARY KEY);
CREATE TEMPORARY TABLE import_area (precinct text PRIMARY KEY)
"""
_STAGE_TABLES = "import_households, import_people, import_gone, import_seen, import_area"
HOUSEHOLD_STAGE = (6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
HOUSEHOLD_STAGE_COLUMNS = (
    "house_number, street, unit, city, state, zip_code, precinct, address_key, part_predir, "
    "part_name, part_type, part_postdir, unit_id, lat, lng"
)
PEOPLE_STAGE = (0, 1, 2, 3, 4, 5, 13, 21, 22, 23)
PEOPLE_STAGE_COLUMNS = (
    "external_id, first_name, last_name, phone, email, language, address_key, voter_status, "
    "extra, timezone"
)

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

# Blank phone, email, language or time zone in the file keep what is known: an organizer may
# have collected them at the door. Consent and do-not-contact are never touched.
_UPDATE_PEOPLE = """
UPDATE turf_person p SET
    household_id = s.household_id,
    first_name = s.first_name,
    last_name = s.last_name,
    phone = COALESCE(NULLIF(s.phone, ''), p.phone),
    email = COALESCE(NULLIF(s.email, ''), p.email),
    language = COALESCE(NULLIF(s.language, ''), p.language),
    timezone = COALESCE(NULLIF(s.timezone, ''), p.timezone),
    voter_status = COALESCE(NULLIF(s.voter_status, ''), p.voter_status),
    extra = p.extra || s.extra::jsonb,
    inactive_since = CASE WHEN s.voter_status = 'inactive'
                          THEN COALESCE(p.inactive_since, %(now)s) END
FROM import_people s
WHERE s.person_id IS NOT NULL AND p.id = s.person_id
  AND (p.household_id, p.first_name, p.last_name, p.phone, p.email, p.language,
       p.timezone, p.voter_status, p.extra, p.inactive_since IS NULL)
      IS DISTINCT FROM
      (s.household_id, s.first_name, s.last_name,
       COALESCE(NULLIF(s.phone, ''), p.phone),
       COALESCE(NULLIF(s.email, ''), p.email),
       COALESCE(NULLIF(s.language, ''), p.language),
       COALESCE(NULLIF(s.timezone, ''), p.timezone),
       COALESCE(NULLIF(s.voter_status, ''), p.voter_status),
       p.extra || s.extra::jsonb, s.voter_status <> 'inactive')
"""

_INSERT_PEOPLE = """
INSERT INTO turf_person (
    campaign_id, household_id, first_name, last_name, phone, email, language, timezone,
    external_id, contact_consent, do_not_contact, created_at, voter_status, extra,
    inactive_since
)
SELECT %(campaign)s, s.household_id, s.first_name, s.last_name, s.phone, s.email,
       s.language, s.timezone, s.external_id, false, false, %(now)s, s.voter_status,
       s.extra::jsonb, CASE WHEN s.voter_status = 'inactive' THEN %(now)s END
FROM import_people s
WHERE s.person_id IS NULL
"""


# A voter the file marks removed (or denied) is never deleted: marked inactive.
_INACTIVATE_GONE = """
UPDATE turf_person p SET
    inactive_since = COALESCE(p.inactive_since, %(now)s),
    voter_status = g.voter_status
FROM import_gone g
WHERE p.campaign_id = %(campaign)s AND p.external_id = g.external_id
  AND NOT (p.external_id = '')
  AND (p.inactive_since IS NULL OR p.voter_status IS DISTINCT FROM g.voter_status)
"""

# A complete file for its area: the voter ids it holds, and the precincts it covers.
_NOTE_SEEN = """
INSERT INTO import_seen (external_id)
SELECT external_id FROM import_people WHERE external_id <> ''
UNION SELECT external_id FROM import_gone
ON CONFLICT DO NOTHING;
INSERT INTO import_area (precinct)
SELECT DISTINCT precinct FROM import_households WHERE precinct <> ''
ON CONFLICT DO NOTHING
"""

# The area is the precincts the file covers (the whole campaign if it has none).
_INACTIVATE_MISSING = """
UPDATE turf_person p SET inactive_since = %(now)s
WHERE p.campaign_id = %(campaign)s AND p.external_id <> '' AND p.inactive_since IS NULL
  AND NOT EXISTS (SELECT 1 FROM import_seen s WHERE s.external_id = p.external_id)
  AND (NOT EXISTS (SELECT 1 FROM import_area)
       OR EXISTS (SELECT 1 FROM turf_household h JOIN import_area a ON a.precinct = h.precinct
                  WHERE h.id = p.household_id))
"""

# A door whose people are all inactive leaves the walk lists no one has been given yet.
_LEAVE_WALK_LISTS = """
DELETE FROM turf_turfstop ts
USING turf_turf t
WHERE ts.turf_id = t.id AND t.campaign_id = %(campaign)s AND t.status = 'open'
  AND NOT EXISTS (SELECT 1 FROM turf_assignment a WHERE a.turf_id = t.id)
  AND EXISTS (SELECT 1 FROM turf_person p
              WHERE p.household_id = ts.household_id AND p.inactive_since IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM turf_person p
                  WHERE p.household_id = ts.household_id AND p.inactive_since IS NULL)
"""


@dataclass
class Counts:
    rows_imported: int = 0
    households_created: int = 0
    people_created: int = 0
    people_updated: int = 0
    people_inactivated: int = 0


class PostgresWriter:
    """COPY good rows into a temporary table and merge them, batch by batch, in one transaction.

    Outside any transaction (the worker, the command) the database work runs on
    its own connection in a second thread, so PostgreSQL merges one batch while
    Python reads the next: the two cores work at once. Nothing is visible until
    the single commit at the end. Inside a transaction (tests) it all runs inline.
    """

    def __init__(self, campaign, complete=False):
        self.campaign = campaign
        self.complete = complete
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
                self._finish(cursor, counts)
                cursor.execute(f"DROP TABLE {_STAGE_TABLES}")
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
                    self._finish(cursor, counts)
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
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE_TABLES}")
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
        households, people, gone = {}, {}, {}
        for row in batch:
            values = row[1:]
            if len(values) == 2:  # a voter the file says is removed: (voter id, status)
                gone[values[0]] = values
                continue
            households[values[13]] = values
            if values[0]:
                people[values[0]] = values
            else:
                people[(values[13], values[1].lower(), values[2].lower())] = values
        counts.rows_imported += len(batch) - len(gone)
        raw = cursor.cursor
        if gone:
            with raw.copy("COPY import_gone (external_id, voter_status) FROM STDIN") as copy:
                for values in gone.values():
                    copy.write_row(values)
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
        if gone:
            cursor.execute(_INACTIVATE_GONE, params)
            counts.people_inactivated += cursor.rowcount
        if self.complete:
            cursor.execute(_NOTE_SEEN)
        cursor.execute("TRUNCATE import_households, import_people, import_gone")

    def _finish(self, cursor, counts):
        """After the last batch: the people a complete file no longer lists are inactive,
        and doors left with no active person leave walk lists not yet assigned."""
        params = {"campaign": self.campaign.pk, "now": timezone.now()}
        if self.complete:
            cursor.execute("ANALYZE import_seen")
            cursor.execute(_INACTIVATE_MISSING, params)
            counts.people_inactivated += cursor.rowcount
        if counts.people_inactivated:
            cursor.execute(_LEAVE_WALK_LISTS, params)


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

    def __init__(self, campaign, complete=False):
        self.campaign = campaign
        self.complete = complete
        self.seen, self.area = set(), set()

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
        self._finish(counts)
        return counts

    @transaction.atomic
    def _finish(self, counts):
        if self.complete:
            missing = Person.objects.filter(
                campaign=self.campaign, inactive_since__isnull=True
            ).exclude(external_id="")
            missing = missing.exclude(external_id__in=self.seen)
            if self.area:
                missing = missing.filter(household__precinct__in=self.area)
            counts.people_inactivated += missing.update(inactive_since=timezone.now())
        if counts.people_inactivated:
            walk_lists_leave_inactive(self.campaign)

    def _gone(self, gone, counts, now):
        for person in Person.objects.filter(campaign=self.campaign, external_id__in=list(gone)):
            status = gone[person.external_id]
            if person.inactive_since is None or person.voter_status != status:
                person.inactive_since = person.inactive_since or now
                person.voter_status = status
                person.save(update_fields=["inactive_since", "voter_status"])
                counts.people_inactivated += 1

    @transaction.atomic
    def _write_batch(self, batch, counts):
        campaign = self.campaign
        now = timezone.now()
        gone = {values[0]: values[1] for values in batch if len(values) == 2}
        batch = [values for values in batch if len(values) != 2]
        if self.complete:
            self.seen.update(gone)
            self.seen.update(values[0] for values in batch if values[0])
            self.area.update(values[12] for values in batch if values[12])
        if gone:
            self._gone(gone, counts, now)
        counts.rows_imported += len(batch)
        if not batch:
            return
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
                        timezone=row["timezone"],
                        external_id=row["external_id"],
                        voter_status=row["voter_status"],
                        extra=json.loads(row["extra"]),
                        inactive_since=now if row["voter_status"] == INACTIVE else None,
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
                person.timezone,
                person.voter_status,
                person.extra,
                person.inactive_since,
            )
            person.household_id = row["household_id"]
            person.first_name = row["first_name"]
            person.last_name = row["last_name"]
            person.phone = row["phone"] or person.phone
            person.email = row["email"] or person.email
            person.language = row["language"] or person.language
            person.timezone = row["timezone"] or person.timezone
            person.voter_status = row["voter_status"] or person.voter_status
            person.extra = {**person.extra, **json.loads(row["extra"])}
            if row["voter_status"] == INACTIVE:
                person.inactive_since = person.inactive_since or now
            else:
                person.inactive_since = None
            after = (
                person.household_id,
                person.first_name,
                person.last_name,
                person.phone,
                person.email,
                person.language,
                person.timezone,
                person.voter_status,
                person.extra,
                person.inactive_since,
            )
            if after != before:
                update.append(person)
        Person.objects.bulk_create(create)
        Person.objects.bulk_update(
            update,
            [
                "household_id",
                "first_name",
                "last_name",
                "phone",
                "email",
                "language",
                "timezone",
                "voter_status",
                "extra",
                "inactive_since",
            ],
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


def walk_lists_leave_inactive(campaign):
    """Doors whose people are all inactive leave the walk lists no one has been given."""
    open_turfs = Turf.objects.filter(
        campaign=campaign, status=Turf.Status.OPEN, assignments__isnull=True
    )
    inactive_doors = (
        Household.objects.filter(campaign=campaign, people__inactive_since__isnull=False)
        .exclude(people__inactive_since__isnull=True)
        .values("pk")
    )
    return TurfStop.objects.filter(turf__in=open_turfs, household__in=inactive_doors).delete()[0]


def writer_for(campaign, fast, complete=False):
    if fast and connection.vendor == "postgresql":
        return PostgresWriter(campaign, complete)
    return BatchWriter(campaign, complete)
