"""Conversations: one row per story note. Ratings are what the canvasser reported, and say
so. Story text goes only to who may read it, and a note flagged sensitive keeps its text
out of the file unless an organizer asks for it explicitly (which the audit records)."""

from conversations.models import StoryNote
from conversations.notes import story_note_may_read
from exports.kinds.base import Column, FilterForm, Kind, date_filter, local_text, yes

SENSITIVE_BLANK = "sensitive story texts left blank"
# What a row reads besides the note's own fields.
VISIT_FIELDS = (
    "visit__happened_at",
    "visit__place",
    "visit__volunteer__first_name",
    "visit__volunteer__last_name",
    "visit__assignment__turf__name",
)
NOTE_FIELDS = (
    "rating_before",
    "rating_after",
    "themes",
    "canvasser_shared_story",
    "self_rating",
    "sensitive",
)
STORY_FIELDS = ("why", "story", "values_feelings")


def _text(attr):
    def get(note, ctx):
        # A sensitive note's words also need the organizer to have asked for them.
        if not story_note_may_read(role=ctx.role, note=note):
            return ""
        if note.sensitive and not ctx.include_sensitive:
            return ""
        return getattr(note, attr)

    return get


def _number(attr):
    return lambda note, ctx: "" if getattr(note, attr) is None else getattr(note, attr)


class Conversations(Kind):
    code = "conversations"
    label = "Conversations"
    description = (
        "One row per story note: ratings (canvasser-reported), themes, whether the canvasser "
        "shared their own story, their listening self-rating, volunteer, turf and date. Story "
        "text is a column you choose; sensitive notes' text stays out unless an organizer asks."
    )
    filename = "conversations"
    filter_form = FilterForm

    def columns(self, campaign):
        visit = lambda f: lambda n, c: f(n.visit, c)  # noqa: E731
        return [
            Column("date", "Date", visit(lambda v, c: local_text(c.campaign, v.happened_at))),
            Column("volunteer", "Volunteer", visit(lambda v, c: str(v.volunteer or ""))),
            Column(
                "turf", "Turf", visit(lambda v, c: v.assignment.turf.name if v.assignment else "")
            ),
            Column("place", "Place", visit(lambda v, c: v.place)),
            Column("rating_before", "Rating before (canvasser-reported)", _number("rating_before")),
            Column("rating_after", "Rating after (canvasser-reported)", _number("rating_after")),
            Column(
                "rating_shift",
                "Rating shift (canvasser-reported)",
                lambda n, c: "" if n.rating_shift is None else n.rating_shift,
            ),
            Column("themes", "Story themes", lambda n, c: "; ".join(n.themes)),
            Column(
                "shared_story",
                "Canvasser shared own story",
                lambda n, c: yes(n.canvasser_shared_story),
            ),
            Column("self_rating", "Listening (canvasser's self-rating)", _number("self_rating")),
            Column("sensitive", "Flagged sensitive", lambda n, c: yes(n.sensitive)),
            Column("why", "Why (their words)", _text("why"), story_text=True),
            Column("story", "Story", _text("story"), story_text=True),
            Column(
                "values_feelings",
                "Values and feelings heard",
                _text("values_feelings"),
                story_text=True,
            ),
        ]

    def default_columns(self, campaign):
        return [c.key for c in self.columns(campaign) if not c.story_text]

    def queryset(self, campaign, filters, ctx):
        qs = (
            StoryNote.objects.filter(visit__campaign=campaign)
            .select_related("visit__volunteer", "visit__assignment__turf")
            .only(*NOTE_FIELDS, *VISIT_FIELDS, *(STORY_FIELDS if ctx.may_read_stories else ()))
            .order_by("visit__happened_at", "pk")
        )
        if filters.get("turf"):
            qs = qs.filter(visit__assignment__turf=filters["turf"])
        if filters.get("volunteer"):
            qs = qs.filter(visit__volunteer=filters["volunteer"])
        return qs.filter(date_filter(campaign, filters, "visit__happened_at"))

    def withheld(self, queryset, ctx, columns):
        if ctx.include_sensitive or not any(column.story_text for column in columns):
            return {}
        return {SENSITIVE_BLANK: queryset.filter(sensitive=True).count()}

    def sensitive_notes_read(self, queryset, ctx, columns):
        if not (ctx.include_sensitive and any(column.story_text for column in columns)):
            return []
        read = queryset.filter(sensitive=True).order_by()
        return list(read.values_list("pk", "visit_id", "visit__campaign_id"))
