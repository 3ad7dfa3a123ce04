"""The demo town's words and numbers: names, streets, shifts, stories.

Kept apart from the code that builds the demo, so that code reads on its own.
"""

from datetime import time

from canvass.models import Membership, ShiftSignup
from conversations.models import Visit

CAMPAIGN = {
    "name": "Riverside Tenants Campaign",
    "timezone": "America/Chicago",
    "rating_question": (
        "On a scale of 0 to 10, how do you feel about capping yearly rent increases "
        "in Riverside at 5%?"
    ),
    "scale_labels": {"0": "Strongly against", "5": "Not sure", "10": "Strongly for"},
    "story_themes": [
        "Rent going up",
        "Repairs and landlords",
        "Being pushed out",
        "Work and wages",
        "Family",
        "Health",
        "Feeling judged",
        "Faith",
        "Neighbors and community",
        "A loved one affected",
    ],
    "commitment_kinds": [
        {"code": "meeting", "label": "Come to a tenants' meeting"},
        {"code": "volunteer_shift", "label": "Knock doors with us"},
        {"code": "council_hearing", "label": "Speak at the council hearing"},
        {"code": "vote_plan", "label": "Make a vote plan"},
        {"code": "follow_up", "label": "Talk again"},
    ],
    "sender_name": "the Riverside Tenants Union",
    # The door screen in Spanish shows these (set on the campaign's door script page).
    "script_translations": {
        "es": {
            "rating_question": (
                "Del 0 al 10, ¿qué opina de limitar al 5% los aumentos anuales de renta "
                "en Riverside?"
            ),
            "story_themes": {
                "Rent going up": "La renta sube",
                "Repairs and landlords": "Reparaciones y caseros",
                "Being pushed out": "Verse obligado a mudarse",
                "Work and wages": "Trabajo y salarios",
                "Family": "Familia",
                "Health": "Salud",
                "Feeling judged": "Sentirse juzgado",
                "Faith": "Fe",
                "Neighbors and community": "Vecinos y comunidad",
                "A loved one affected": "Un ser querido afectado",
            },
        }
    },
}
STAFF = [
    # username, first, last, email, role, is_superuser
    ("organizer", "Jordan", "Ellis", "organizer@example.org", Membership.Role.ORGANIZER, True),
    ("fieldlead", "Sam", "Okafor", "fieldlead@example.org", Membership.Role.FIELD_LEAD, False),
]

# --- The town ---------------------------------------------------------------
# Named streets run west–east (listed south to north), numbered avenues run
# south–north (listed west to east). House numbers count blocks from the
# southwest corner, so "412 Cedar St" lies between 4th and 5th Ave.
CITY, STATE, ZIP_CODE = "Riverside", "IL", "61550"
TOWN_CENTER = (40.8123, -89.1687)
STREETS = [f"{name} St" for name in "Oak Maple Elm Cedar Walnut Chestnut Hickory".split()]
STREETS += ["Locust St", "Sycamore St", "Willow St"]
AVENUES = [f"{n} Ave" for n in "1st 2nd 3rd 4th 5th 6th 7th 8th 9th".split()]
BLOCK_WIDTH_M = 160  # avenue to avenue
BLOCK_DEPTH_M = 110  # street to street
SETBACK_M = 14
APARTMENT_BUILDINGS = 12
TURF_COLUMNS = 4  # two avenue blocks each
TURF_ROWS = 2  # five streets each

# Only 555-0100…0199 is set aside for fiction; phonenumbers accepts it as valid in
# every area code. Area codes of Illinois and its Central-time neighbours, so
# quiet hours computed from the number match the campaign's zone.
AREA_CODES = [309, 217, 815, 779, 618, 312, 773, 872, 630, 331, 708, 847, 224, 447, 464]
AREA_CODES += [314, 636, 573, 417, 660, 816, 319, 515, 563, 641, 712, 262, 414, 608, 715, 920]

FIRST_NAMES = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William
Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy
Matthew Betty Anthony Sandra Mark Ashley Donald Kimberly Steven Emily Andrew Donna Joshua
Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Rebecca
Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley
Jonathan Brenda Larry Emma Justin Pamela Scott Nicole Brandon Ruth Tyler Samantha Aaron Katherine
Jose Christine Adam Debra Nathan Rachel Henry Carolyn Zachary Janet Kyle Maria Noah Olivia
Tremaine Latoya DeShawn Imani Malik Keisha Terrence Aaliyah Darnell Shanice Mei Wei Minh Linh
Hao Anh Priya Ravi Aisha Omar Fatima Yusuf Hyun Ji-woo Tenzin Nadia Dmitri Olga""".split()
LAST_NAMES = """Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore
Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott
Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans
Edwards Collins Stewart Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Kelly
Howard Ward Cox Richardson Wood Watson Brooks Bennett Gray James Hughes Price Sanders Myers Long
Ross Foster Powell Jenkins Perry Russell Sullivan Fisher Henderson Coleman Simmons Patterson
Jordan Reynolds Hamilton Graham Wallace Freeman Schultz Meyer Kowalski Novak Lindqvist Olsen
Nguyen Tran Pham Le Chen Wang Liu Kim Park Patel Shah Khan Ali Haddad Mensah Okafor Abebe""".split()
HISPANIC_FIRST = """Juan Maria Luis Ana Carlos Rosa Miguel Carmen Jorge Lucia Alejandro Sofia
Ricardo Gabriela Fernando Elena Javier Isabel Marisol Hector Yesenia Raul""".split()
HISPANIC_LAST = """Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres
Flores Rivera Gomez Diaz Cruz Morales Reyes Ortiz Gutierrez Chavez Ramos Vargas Castillo
Mendoza Delgado""".split()

# --- The people who knock ---------------------------------------------------
VOLUNTEERS = [
    ("Dana", "Whitfield", "en"),
    ("Marcus", "Bell", "en"),
    ("Priya", "Raman", "en"),
    ("Luis", "Ortega", "es"),
    ("Grace", "Kim", "en"),
    ("Tom", "Novak", "en"),
    ("Ana", "Flores", "es"),
    ("Keisha", "Morgan", "en"),
    ("Ben", "Adler", "en"),
    ("Rosa", "Delgado", "es"),
    ("Hannah", "Lindqvist", "en"),
    ("Omar", "Haddad", "en"),
]
LIBRARY = "Riverside Public Library, 300 Elm St"
LAUNDROMAT = "Laundromat lot, 5th Ave & Maple St"
COMMUNITY_ROOM = "Community room, 420 Chestnut St"
FAIRGROUNDS = "Riverside Flea Market, county fairgrounds"
# Staging locations' map pins.
PLACES = {
    LIBRARY: (40.80983, -89.17155),
    LAUNDROMAT: (40.80884, -89.16870),
    COMMUNITY_ROOM: (40.81279, -89.17022),
    FAIRGROUNDS: (40.81900, -89.15600),
}
# name, days from today, local start (None: the shift running now), hours, place, capacity
SHIFTS = [
    ("Kickoff canvass", -6, time(10), 3, LIBRARY, 12),
    ("Flea market table", -4, time(9), 4, FAIRGROUNDS, 4),
    ("Weeknight doors", -3, time(17), 3, LAUNDROMAT, 8),
    ("Neighborhood canvass", 0, None, 3, LIBRARY, 10),
    ("Weekend canvass", 2, time(10), 3, LIBRARY, 12),
    ("Tenant clinic table", 3, time(18), 2, COMMUNITY_ROOM, 3),
    ("Apartment blitz", 4, time(17, 30), 2.5, COMMUNITY_ROOM, 8),
    ("Park cleanup table", 5, time(9), 2, FAIRGROUNDS, 6),
    ("Canvass before the council hearing", 7, time(10), 3, LIBRARY, 12),
]
# A repeating shift: every Saturday for four weeks, from the first Saturday at least this
# many days away. name, days, local start, hours, place, capacity, weeks
SERIES = ("Saturday doors", 9, time(10), 3, LIBRARY, 10, 4)
SHIFT_NOTES = {
    LIBRARY: "Meet in the community room off the lobby. Bring a charged phone and water; "
    "clipboards and walk sheets are there.",
    LAUNDROMAT: "Park behind the laundromat. Look for the folding table with the blue sign.",
    COMMUNITY_ROOM: "Buzz 1A at the side door on Chestnut St.",
    FAIRGROUNDS: "Our table is near the food trucks, row C.",
}
# The organizer in charge of each shift ("organizer" or "fieldlead").
CONTACTS = {"Weeknight doors": "fieldlead", "Apartment blitz": "fieldlead"}
# Turfs handed out at each shift, by index (the assigned ones are added).
POOLS = {
    "Neighborhood canvass": [7],
    "Weekend canvass": [1, 2, 3, 7],
    "Apartment blitz": [5, 6],
    "Canvass before the council hearing": [0, 1, 2, 3],
    "Saturday doors": [4, 5, 6, 7],
}
Signup = ShiftSignup.Status
# shift name: {status: volunteer indexes}. Everyone signs up in this order first (a full
# shift waitlists the rest); then the check-ins, confirmations and cancellations happen,
# and the waitlist moves up by itself. A no-show is whoever the sweep finds after the end.
SIGNUPS = {
    "Kickoff canvass": {Signup.ATTENDED: [0, 1, 2, 7], Signup.NO_SHOW: [3]},
    "Flea market table": {Signup.ATTENDED: [6, 8]},
    "Weeknight doors": {Signup.ATTENDED: [3, 4, 5], Signup.CANCELLED: [9]},
    "Neighborhood canvass": {Signup.ATTENDED: [0, 2, 4, 5, 7], Signup.CANCELLED: [10]},
    "Weekend canvass": {Signup.CONFIRMED: [0, 3], Signup.SIGNED_UP: [1, 6, 8, 11]},
    # Full at three: Hannah and Omar wait; Ana cancels and Hannah moves up.
    "Tenant clinic table": {Signup.CANCELLED: [6], Signup.SIGNED_UP: [1, 8, 10, 11]},
    "Apartment blitz": {Signup.CONFIRMED: [2], Signup.SIGNED_UP: [4, 9, 10]},
    "Park cleanup table": {Signup.SIGNED_UP: [2, 7]},
    "Canvass before the council hearing": {Signup.CONFIRMED: [11], Signup.SIGNED_UP: [0, 5, 7]},
    "Saturday doors": {Signup.SIGNED_UP: [3, 9]},
}
CANCELLED_SHIFTS = {"Park cleanup table"}
# People who turned up at the staging location without signing up.
WALK_INS = {"Neighborhood canvass": [("Jamal", "Price", "jamal.price@example.org")]}
CURRENT_SHIFT = "Neighborhood canvass"
EVENT_SHIFT = "Flea market table"
# shift name, turf index, volunteer indexes. The first assignment of the current
# shift is the link the command prints.
ASSIGNMENTS = [
    ("Kickoff canvass", 0, [0, 1]),
    ("Kickoff canvass", 1, [2, 7]),
    ("Weeknight doors", 2, [3, 4]),
    ("Weeknight doors", 3, [5]),
    (CURRENT_SHIFT, 4, [2]),
    (CURRENT_SHIFT, 0, [0]),
    (CURRENT_SHIFT, 5, [4, 5]),
    (CURRENT_SHIFT, 6, [7]),
]

# --- What happens at the door -----------------------------------------------
Outcome = Visit.Outcome
OUTCOMES = [
    (Outcome.NOT_HOME, 45, (2, 4)),
    (Outcome.CONVERSATION, 27, (11, 20)),
    (Outcome.REFUSED, 12, (1, 3)),
    (Outcome.COME_BACK, 8, (1, 3)),
    (Outcome.MOVED, 4, (2, 4)),
    (Outcome.INACCESSIBLE, 4, (1, 2)),
]
OUTCOME_NOTES = {
    Outcome.NOT_HOME: ["", "", "", "Left a flyer", "Dog barking, nobody came"],
    Outcome.REFUSED: [
        "",
        "Not interested",
        "Closed the door",
        "Said they're a landlord, not today",
    ],
    Outcome.COME_BACK: ["Asked us to come back after 6", "Eating dinner, try the weekend"],
    Outcome.MOVED: ["Neighbor says they moved out in the spring", "New tenant, not on our list"],
    Outcome.INACCESSIBLE: [
        "Locked building door",
        "Gate locked, dog in yard",
        "No trespassing sign",
    ],
    Outcome.CONVERSATION: [""],
}
WHY = {
    "low": [
        "Worried landlords will stop fixing things if they can't raise rent.",
        "Thinks the city shouldn't tell owners what to charge.",
        "Heard rent control backfired somewhere else.",
    ],
    "mid": [
        "Likes the idea but doesn't know if it would actually help.",
        "Rent is okay for them, but their kids can't afford to move out.",
        "Wants to know what it does for small landlords.",
    ],
    "high": [
        "Rent went up 18% last year.",
        "Has moved three times in five years because of increases.",
        "Everyone on the block is paying more for less.",
    ],
}
# themes, sensitive, the story in the canvasser's words, values and feelings heard
STORIES = [
    (
        ["Rent going up", "Work and wages"],
        False,
        "{first} has lived here eleven years. Rent went from $850 to $1,140 in two renewals. "
        "Picked up Saturday shifts at the distribution center to cover it and barely sees "
        "the kids on weekends now. Went quiet when I asked what happens if it goes up again.",
        "Providing for family; exhaustion; fear of having to leave",
    ),
    (
        ["Repairs and landlords", "Health"],
        True,
        "Mold in the bathroom since last winter. Their son's asthma got worse, two ER visits. "
        "Asked the management company four times and is afraid that pushing harder means "
        "no renewal.",
        "Protecting their kid; feeling powerless",
    ),
    (
        ["Being pushed out", "Neighbors and community"],
        False,
        "Three families on {first}'s floor left after the building sold and the new owner raised "
        "everyone $300. Misses the neighbor who watched their kids after school.",
        "Belonging; loss; anger at how fast it happened",
    ),
    (
        ["Feeling judged"],
        False,
        "Said people assume renters don't care about the neighborhood. Told me about a letter from "
        'the city about their yard "bringing down values". Coaches Little League at the park.',
        "Pride; resentment at being looked down on",
    ),
    (
        ["A loved one affected", "Rent going up"],
        False,
        "{first}'s mother lives in the senior building on Chestnut and got a 14% increase on a "
        "fixed income. {first} now pays part of her rent and has put off fixing the car.",
        "Duty to family; worry about their mom",
    ),
    (
        ["Neighbors and community"],
        False,
        "Owns this duplex and rents the upstairs. Started low, worried a cap would make taxes and "
        "repairs hard. Warmed up after my landlord story; says they've never raised their tenant "
        "more than inflation and would back it with room for small owners.",
        "Fairness; wanting to be a good landlord",
    ),
    (
        ["Health", "Work and wages"],
        True,
        "Lost hours at the plant after a back injury, on short-term disability. One month behind "
        "on rent and scared to tell the landlord.",
        "Shame; fear; wants to stand on their own",
    ),
    (
        ["Family", "Being pushed out"],
        False,
        "Grew up on this street and moved back to raise the kids near their grandparents. Worries "
        "they'll be priced out before the youngest finishes at Riverside Elementary.",
        "Roots; family; uncertainty",
    ),
    (
        ["Repairs and landlords", "Feeling judged"],
        True,
        "The landlord told them not to call the city about the broken heat \"if you know what's "
        "good for you\". Didn't want to say more and I didn't push. A cousin had the same thing "
        "happen in another building.",
        "Fear; distrust; loyalty to family",
    ),
    (
        ["Faith", "Neighbors and community"],
        False,
        "Volunteers at the food pantry at St. Mark's and sees more families every month who say "
        "rent is eating the grocery money. Said a home shouldn't be a luxury.",
        "Faith; compassion; responsibility to neighbors",
    ),
    (
        ["Rent going up"],
        False,
        "Skeptical: read that caps make owners stop building. Listened to my story about my "
        "sister's move but stayed unsure. Wants to hear what the ordinance actually says.",
        "Caution; wants evidence",
    ),
    (
        ["Work and wages", "Family"],
        False,
        "Works two jobs, the school cafeteria and evenings at the gas station. Rent is more than "
        "half of take-home. Said last year's raise went straight to the landlord.",
        "Hard work not paying off; frustration",
    ),
    (
        ["Repairs and landlords"],
        False,
        "Ceiling leak over the kitchen for three months; the landlord keeps saying the roofer is "
        "coming. Showed me the buckets.",
        "Being ignored; worn down",
    ),
    (
        ["A loved one affected", "Health"],
        True,
        "{first}'s brother was evicted last spring after a hospital stay put him behind, and has "
        "slept on their couch since. Teared up talking about it.",
        "Grief; loyalty; anger",
    ),
    (
        ["Neighbors and community", "Being pushed out"],
        False,
        "Runs the block party and knows every family on the block. Says turnover in the rentals is "
        "changing the street; new people leave before anyone learns their names.",
        "Community; wanting stability",
    ),
    (
        ["Family"],
        False,
        "New parent, baby is four months old. Thinking of moving in with the in-laws to save, but "
        "that means quitting a job they like. Said nobody had ever asked what they thought.",
        "Hope; stress; feeling heard",
    ),
]
VALUES_EXTRA = ["", "", "Laughed about our kids' schools", "Thanked me for listening"]

COMMITMENT_PLANS = {
    # kind: (weight, what, owner role)
    "meeting": (9, "Come to the tenants' meeting at the Riverside Public Library", "organizer"),
    "volunteer_shift": (4, "Knock doors with us", "fieldlead"),
    "council_hearing": (3, "Speak at the city council hearing on the rent cap", "organizer"),
    "vote_plan": (4, "Vote early at City Hall before work", "organizer"),
    "follow_up": (5, "Talk again after reading the ordinance", "fieldlead"),
}
COMMITMENTS_WANTED = 25
EVENT_CONVERSATIONS = 10
