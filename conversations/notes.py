"""Who may read a story note's words, and the record of each reading.

A story note's numbers (ratings, themes, outcome) feed the dashboards; its words — the story,
the "why", the values and feelings heard — are shown only through `story_notes_read`, on every
page, admin screen, export and API answer. A note marked sensitive (health, immigration,
abuse…) is shown in full only to the organizers of its campaign, and every such reading
writes an AuditEvent; anyone else gets the numbers and a line saying the words are withheld.
"""

from dataclasses import dataclass

from canvass.models import AuditEvent, Membership

TEXT_FIELDS = ("why", "story", "values_feelings")
WITHHELD = "Sensitive: only organizers of this campaign can read this note."
NOT_YOURS = "Only organizers and field leads of this campaign can read this note."
READ_ACTION = "story_note.read"

Role = Membership.Role


@dataclass(frozen=True)
class NoteText:
    why: str
    story: str
    values_feelings: str
    # Why the words are not shown, or "" when they are.
    withheld: str = ""


def _roles(user, campaign_ids):
    if not user.is_authenticated:
        return {}
    return dict(
        Membership.objects.filter(user=user, campaign_id__in=campaign_ids).values_list(
            "campaign_id", "role"
        )
    )


def story_note_may_read(*, role, note):
    """Whether someone holding `role` in the note's campaign (None: no role) reads its words."""
    if note.sensitive:
        return role == Role.ORGANIZER
    return role in (Role.ORGANIZER, Role.FIELD_LEAD)


def story_notes_read(*, notes, user, via):
    """{note.pk: NoteText} for `notes` as `user` may read them; audits each sensitive reading.

    `via` names where the words are shown ("person page", "admin", an export's name) and goes
    into the audit row, with the note and the campaign, never the words themselves. Notes need
    `visit` loaded (for the campaign)."""
    notes = list(notes)
    roles = _roles(user, {note.visit.campaign_id for note in notes})
    shown, audits = {}, []
    for note in notes:
        role = roles.get(note.visit.campaign_id)
        if story_note_may_read(role=role, note=note):
            shown[note.pk] = NoteText(*(getattr(note, name) for name in TEXT_FIELDS))
            if note.sensitive:
                audits.append((note.pk, note.visit_id, note.visit.campaign_id))
        else:
            reason = WITHHELD if note.sensitive else NOT_YOURS
            shown[note.pk] = NoteText("", "", "", withheld=reason)
    story_notes_audit(readings=audits, user=user, via=via)
    return shown


def story_notes_audit(*, readings, user, via, detail=None):
    """Record that `user` read the words of the sensitive notes in `readings`, an iterable of
    (note pk, visit pk, campaign pk): one AuditEvent each, as story_notes_read writes.

    For the one path that writes the words without story_notes_read (an export streams
    them from the database); `detail` adds to each row's detail (the export's id)."""
    events = (
        AuditEvent(
            campaign_id=campaign_id,
            actor=user,
            action=READ_ACTION,
            target=f"story_note:{note_pk}",
            detail={"via": via, "visit": visit_id, **(detail or {})},
        )
        for note_pk, visit_id, campaign_id in readings
    )
    AuditEvent.objects.bulk_create(events, batch_size=1000)


def story_note_read(*, note, user, via):
    """One note's NoteText (see story_notes_read)."""
    return story_notes_read(notes=[note], user=user, via=via)[note.pk]
