"""Paper walk sheets: the codes written on them, the sheets' pages, and the PDF packet.

A packet is one PDF for a shift (or one turf): per turf a cover page (a small map of its
doors, the assignment link as a QR code, the campaign's question and the result codes),
then its doors in walk order, DOORS_PER_PAGE a page, each page headed with the turf and
numbered "page 2 of 5" within that turf's sheets. The door numbers on the sheet are the
walk order, which is the order the paper results page asks for them back.
"""

import io
import math
import uuid

import segno
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from conversations.models import Visit
from turf.models import Assignment, Person, Turf, TurfStop
from turf.services import assignment_link

DOORS_PER_PAGE = 25
OUTCOME = Visit.Outcome
# One letter per result, written on paper and typed back in. The same letters everywhere.
RESULT_CODES = {
    "C": OUTCOME.CONVERSATION,
    "N": OUTCOME.NOT_HOME,
    "B": OUTCOME.COME_BACK,
    "R": OUTCOME.REFUSED,
    "M": OUTCOME.MOVED,
    "I": OUTCOME.INACCESSIBLE,
}
CODE_FOR_RESULT = {outcome: code for code, outcome in RESULT_CODES.items()}

MAP_W, MAP_H = 420, 260


def commitment_codes(campaign):
    """[(digit, kind code, label)]: each commitment kind's number on the sheet (1–9)."""
    return [
        (str(i), kind["code"], kind.get("label") or kind["code"])
        for i, kind in enumerate(campaign.commitment_kinds[:9], start=1)
    ]


def sheet_stops(turf):
    """The turf's stops in walk order, with households and their people."""
    from django.db.models import Prefetch

    return list(
        TurfStop.objects.filter(turf=turf)
        .select_related("household")
        .prefetch_related(
            Prefetch(
                "household__people",
                queryset=Person.objects.order_by("last_name", "first_name"),
            )
        )
        .order_by("position")
    )


def _map_svg(stops):
    """A small map of the turf's located doors and its walk, as SVG markup (no tiles)."""
    points = [
        (s.household.lng, s.household.lat)
        for s in stops
        if s.household.lat is not None and s.household.lng is not None
    ]
    if not points:
        return ""
    lat0 = sum(p[1] for p in points) / len(points)
    scale_x = math.cos(math.radians(lat0))
    xs = [p[0] * scale_x for p in points]
    ys = [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-5)
    pad = 16
    k = min((MAP_W - 2 * pad) / span, (MAP_H - 2 * pad) / span)

    def xy(i):
        return (pad + (xs[i] - min(xs)) * k, MAP_H - pad - (ys[i] - min(ys)) * k)

    coords = [xy(i) for i in range(len(points))]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2"/>' for x, y in coords)
    sx, sy = coords[0]
    # Every value is a number formatted here: nothing from the data reaches the markup.
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_W} {MAP_H}" '
        f'width="{MAP_W}" height="{MAP_H}" class="turf-map">'
        f'<rect width="{MAP_W}" height="{MAP_H}" fill="#f4f4f0" stroke="#999"/>'
        f'<polyline points="{path}" fill="none" stroke="#1f5f8b" stroke-width="1"/>'
        f'<g fill="#333">{dots}</g>'
        f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="6" fill="none" stroke="#b00" stroke-width="2"/>'
        f"</svg>"
    )


def _streets(stops):
    """[(street, lowest number, highest number, doors)] in walk order, for a turf off the map."""
    seen = {}
    for stop in stops:
        h = stop.household
        entry = seen.setdefault(h.street, [None, None, 0])
        digits = "".join(c for c in h.house_number if c.isdigit())
        if digits:
            n = int(digits)
            entry[0] = n if entry[0] is None else min(entry[0], n)
            entry[1] = n if entry[1] is None else max(entry[1], n)
        entry[2] += 1
    return [(street, low, high, doors) for street, (low, high, doors) in seen.items()]


def _qr_svg(link):
    svg = segno.make(link, error="m").svg_inline(scale=3, light="#fff", title="Assignment link")
    return mark_safe(svg)


def turf_sheet_context(*, turf, assignment=None, with_link=True):
    """What one turf's sheets show. The link's QR code only `with_link` (organizers)."""
    campaign = turf.campaign
    stops = sheet_stops(turf)
    token = None
    if with_link and assignment is not None and assignment.is_live:
        token = assignment.link_token()
    link = assignment_link(token) if token else ""
    pages = [stops[i : i + DOORS_PER_PAGE] for i in range(0, len(stops), DOORS_PER_PAGE)]
    return {
        "campaign": campaign,
        "turf": turf,
        "assignment": assignment,
        "volunteers": list(assignment.volunteers.all()) if assignment else [],
        "stops": stops,
        "pages": [(i * DOORS_PER_PAGE, page) for i, page in enumerate(pages)] or [(0, [])],
        "map_svg": _map_svg(stops),
        "streets": _streets(stops) if not any(s.household.lat for s in stops) else [],
        "link": link,
        "qr_svg": _qr_svg(link) if link else "",
        "result_codes": [(code, outcome.label) for code, outcome in RESULT_CODES.items()],
        "commitment_codes": commitment_codes(campaign),
        "scale_labels": sorted(
            (int(k), v) for k, v in (campaign.scale_labels or {}).items() if str(k).isdigit()
        ),
        "printed_at": timezone.localtime(timezone.now(), campaign.tz),
    }


def packet_turfs(*, campaign, shift=None, turf=None):
    """[(turf, assignment or None)] for a packet: one turf, or every turf with a link for
    the shift, by name."""
    if turf is not None:
        live = (
            Assignment.objects.live()
            .filter(turf=turf)
            .prefetch_related("volunteers")
            .select_related("shift")
            .order_by("-created_at")
            .first()
        )
        return [(turf, live)]
    assignments = (
        Assignment.objects.live()
        .filter(shift=shift, turf__campaign=campaign)
        .select_related("turf__campaign", "shift")
        .prefetch_related("volunteers")
        .order_by("turf__name", "-created_at")
    )
    seen = {}
    for assignment in assignments:
        seen.setdefault(assignment.turf_id, (assignment.turf, assignment))
    return list(seen.values())


def packet_pdf(*, campaign, turfs_and_assignments, shift=None, with_link=True) -> bytes:
    """One PDF of every turf's sheets, each turf's pages numbered on their own."""
    from weasyprint import HTML

    documents = []
    for turf, assignment in turfs_and_assignments:
        html = render_to_string(
            "turf/walk_sheet_pdf.html",
            {
                **turf_sheet_context(turf=turf, assignment=assignment, with_link=with_link),
                "shift": shift,
            },
        )
        documents.append(HTML(string=html).render())
    if not documents:
        return b""
    pages = [page for document in documents for page in document.pages]
    out = io.BytesIO()
    documents[0].copy(pages).write_pdf(out)
    return out.getvalue()


def packet_filename(*, shift=None, turf: Turf | None = None):
    from django.utils.text import slugify

    name = slugify(turf.name if turf is not None else str(shift)) or "walk-sheets"
    return f"walk-sheets-{name}.pdf"


# --- Typing a sheet back in --------------------------------------------------------


class PaperInvalid(Exception):
    """Nothing of the sheet was written. `errors` maps a door's sheet number to why."""

    def __init__(self, errors):
        super().__init__("Some doors of the sheet need fixing; nothing was saved.")
        self.errors = errors


def paper_client_id(*, assignment, household, walk):
    """The visit id for one door of one walk of a sheet: the same every time it is typed,
    so a sheet submitted twice records each door once."""
    return uuid.uuid5(PAPER_NAMESPACE, f"{assignment.pk}:{household.pk}:{walk}")


PAPER_NAMESPACE = uuid.UUID("6f1c2b9e-3d4a-5b6c-8d7e-9f0a1b2c3d4e")


def _paper_row(row, *, campaign):
    """(outcome, story note or None, commitment kinds) for one typed row; ValueError says why."""
    code = (row.get("result") or "").strip().upper()
    if code not in RESULT_CODES:
        known = ", ".join(RESULT_CODES)
        raise ValueError(f"“{code}” is not a result code (use one of {known}).")
    outcome = RESULT_CODES[code]
    ratings = {}
    for field, label in (("before", "rating before"), ("after", "rating after")):
        text = (row.get(field) or "").strip()
        if not text:
            continue
        if not text.isdigit() or not 0 <= int(text) <= 10:
            raise ValueError(f"The {label} must be a number from 0 to 10, not “{text}”.")
        ratings[f"rating_{field}"] = int(text)
    digits = (row.get("commitments") or "").replace(" ", "").replace(",", "")
    codes = dict((digit, kind) for digit, kind, _ in commitment_codes(campaign))
    kinds = []
    for digit in digits:
        if digit not in codes:
            raise ValueError(f"“{digit}” is not a commitment number on the sheet.")
        if codes[digit] not in kinds:
            kinds.append(codes[digit])
    if outcome != OUTCOME.CONVERSATION and (ratings or kinds):
        raise ValueError("Ratings and commitments go with a conversation (C) only.")
    return outcome, (ratings or None), kinds


def paper_results_record(*, assignment, rows, walked_at, entered_by, walk=1, volunteer=None):
    """Record a typed-in walk sheet as visits, through the phone's visit path. Returns
    (recorded, already): doors written now, and doors this sheet had already recorded.

    `rows` maps a door's sheet number (1 = the first door of the walk list) to what was
    written: {"result": letter, "before": digits, "after": digits, "commitments": digits};
    a row with no result is a door not written on. Each door's visit gets an id made from
    the assignment, the door and `walk` (the first, second… time the sheet was walked),
    so typing the same sheet again records nothing twice; a door already entered with
    something else is refused rather than overwritten. Every visit is marked from paper
    with who typed it. All or nothing: any bad row raises PaperInvalid and writes nothing.
    """
    from django.db import transaction

    from conversations.services.visits import VisitConflict, VisitInvalid, visit_record

    campaign = assignment.turf.campaign
    stops = list(
        TurfStop.objects.filter(turf=assignment.turf)
        .select_related("household")
        .prefetch_related("household__people")
        .order_by("position")
    )
    errors, parsed = {}, []
    for number, row in sorted(rows.items()):
        if not (row.get("result") or "").strip():
            if any((row.get(f) or "").strip() for f in ("before", "after", "commitments")):
                errors[number] = "Write the result code first."
            continue
        if not 1 <= number <= len(stops):
            errors[number] = f"The sheet has doors 1 to {len(stops)}."
            continue
        try:
            parsed.append(
                (number, stops[number - 1].household, *_paper_row(row, campaign=campaign))
            )
        except ValueError as error:
            errors[number] = str(error)
    if errors:
        raise PaperInvalid(errors)
    if not parsed:
        raise PaperInvalid({0: "Nothing was typed in: write at least one door's result."})

    recorded = already = 0
    with transaction.atomic():
        for number, household, outcome, story_note, kinds in parsed:
            people = list(household.people.all())
            person = people[0] if len(people) == 1 else None
            commitments = [
                {
                    "kind": kind,
                    "what": f"{_kind_label(campaign, kind)} (from a paper walk sheet)",
                    "owner": entered_by,
                }
                for kind in kinds
            ]
            try:
                visit, created = visit_record(
                    assignment=assignment,
                    client_id=paper_client_id(
                        assignment=assignment, household=household, walk=walk
                    ),
                    happened_at=walked_at,
                    outcome=outcome,
                    household=household,
                    person=person,
                    note="From a paper walk sheet.",
                    story_note=story_note,
                    commitments=commitments,
                    volunteer=volunteer,
                )
            except VisitConflict:
                errors[number] = (
                    f"Door {number} was already typed in for walk {walk} with something "
                    "else. Visits are never overwritten: if it was another knock, enter it "
                    "as the next walk."
                )
                continue
            except VisitInvalid as invalid:
                errors[number] = "; ".join(_flatten(invalid.errors))
                continue
            if created:
                type(visit).objects.filter(pk=visit.pk).update(
                    from_paper=True, entered_by=entered_by
                )
                recorded += 1
            else:
                already += 1
        if errors:
            raise PaperInvalid(errors)  # rolls back every door of the sheet
    return recorded, already


def _kind_label(campaign, code):
    return next(
        (k.get("label") or code for k in campaign.commitment_kinds if k["code"] == code), code
    )


def _flatten(errors):
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _flatten(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from _flatten(value)
    elif errors:
        yield str(errors)
