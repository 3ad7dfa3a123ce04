"""Keeping a campaign's heavy numbers (the dashboards, follow-through, the coaching medians)
between two writes, and no longer.

On PostgreSQL, triggers on every table those numbers are counted from (visits, story
notes, commitments, reminders, signups, turfs, links, households, people, stops,
volunteers) add a NumbersChange row for each statement that writes rows of a campaign,
whatever wrote them: a service, the admin, a queryset's update(), an import's INSERT …
SELECT, a cascade. The numbers are kept under the count and the last id of the
campaign's rows, so the first read after any committed write computes them again. The
count matters: ids are handed out before commit, so a write that commits after a later
one adds a row with a lower id; the count still moves.

Elsewhere (SQLite: the demo's small campaigns) there are no triggers and nothing is kept.
"""

from django.core.cache import cache
from django.db import connection, models

# Past this many rows a campaign's log is cut back to its last row on the next read (the
# numbers are then computed once more: the count moved).
PRUNE_AT = 1000
# Kept at most this long even when nothing changes: a safety net, not the freshness rule.
KEEP_SECONDS = 3600


class NumbersChange(models.Model):
    """A statement wrote rows that a campaign's numbers are counted from. Written by
    database triggers (see the migration), never by the application."""

    # Not a foreign key: the rows of a campaign being deleted are logged while it goes.
    campaign_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["campaign_id", "id"], name="numbers_change_campaign")]

    def __str__(self):
        return f"Numbers of campaign {self.campaign_id} changed (#{self.pk})"


# (table, the campaign's id for a row r of it, the join that gives it) for the triggers.
WATCHED = [
    ("canvass_campaign", "r.id", ""),  # its name and commitment kinds label the rows
    ("conversations_visit", "r.campaign_id", ""),
    ("conversations_storynote", "v.campaign_id", "JOIN conversations_visit v ON v.id = r.visit_id"),
    ("conversations_commitment", "r.campaign_id", ""),
    ("conversations_reminder", "r.campaign_id", ""),
    ("canvass_shiftsignup", "s.campaign_id", "JOIN canvass_shift s ON s.id = r.shift_id"),
    ("canvass_volunteer", "r.campaign_id", ""),
    ("turf_turf", "r.campaign_id", ""),
    ("turf_assignment", "t.campaign_id", "JOIN turf_turf t ON t.id = r.turf_id"),
    ("turf_turfstop", "t.campaign_id", "JOIN turf_turf t ON t.id = r.turf_id"),
    ("turf_household", "r.campaign_id", ""),
    ("turf_person", "r.campaign_id", ""),
]

_FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_numbers_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO conversations_numberschange (campaign_id)
        SELECT DISTINCT {campaign} FROM old_rows r {join} WHERE {campaign} IS NOT NULL;
    ELSE
        INSERT INTO conversations_numberschange (campaign_id)
        SELECT DISTINCT {campaign} FROM new_rows r {join} WHERE {campaign} IS NOT NULL;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""
_TRIGGER = """
CREATE TRIGGER {table}_numbers_{op} AFTER {event} ON {table}
REFERENCING {which} TABLE AS {alias} FOR EACH STATEMENT
EXECUTE FUNCTION {table}_numbers_changed();
"""
_EVENTS = [("ins", "INSERT", "NEW", "new_rows"), ("upd", "UPDATE", "NEW", "new_rows")]
_EVENTS += [("del", "DELETE", "OLD", "old_rows")]


def triggers_sql():
    """The statements that install the triggers (PostgreSQL)."""
    statements = []
    for table, campaign, join in WATCHED:
        statements.append(_FUNCTION.format(table=table, campaign=campaign, join=join))
        for op, event, which, alias in _EVENTS:
            statements.append(
                _TRIGGER.format(table=table, op=op, event=event, which=which, alias=alias)
            )
    return statements


def triggers_drop_sql():
    statements = []
    for table, _campaign, _join in WATCHED:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_numbers_{op} ON {table}" for op, *_ in _EVENTS
        ]
        statements.append(f"DROP FUNCTION IF EXISTS {table}_numbers_changed()")
    return statements


def numbers_version(campaign_id):
    """A token that changes with every committed write to the campaign's numbers, or None
    where no triggers keep the log (then nothing may be kept)."""
    if connection.vendor != "postgresql":
        return None
    sql = "SELECT count(*), max(id) FROM conversations_numberschange WHERE campaign_id = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign_id])
        count, last = cursor.fetchone()
        if count > PRUNE_AT:
            cursor.execute(
                "DELETE FROM conversations_numberschange WHERE campaign_id = %s AND id < %s",
                [campaign_id, last],
            )
            cursor.execute(sql, [campaign_id])
            count, last = cursor.fetchone()
    return f"{count}:{last}"


def numbers_cached(campaign, name, compute):
    """`compute()`, or what it returned the last time for `campaign` if nothing the numbers
    are counted from has been written since (see the module's docstring).

    The version is read before computing: a write committed meanwhile may or may not be
    in the result, and either way the next read computes again.
    """
    version = numbers_version(campaign.pk)
    if version is None:
        return compute()
    key = f"numbers:{campaign.pk}:{name}"
    kept = cache.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    value = compute()
    cache.set(key, (version, value), KEEP_SECONDS)
    return value
