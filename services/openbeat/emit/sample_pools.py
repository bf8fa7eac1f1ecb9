"""The vocabularies of the synthetic sample: offenses, people, streets, venues, texts.

Kept apart from the generator so the generator reads as logic. Everything here is invented; the
phone numbers use the 555-01XX range reserved for fiction and the e-mail domains are the
reserved `example.*` ones, so the sample can never contain a real person's contact data.

The offense mix follows a month of Chicago crime data (chicago_crimes_2014-03.csv mapped to
NIBRS): thefts and simple assaults lead, then vandalism, drugs, burglary, fraud, motor-vehicle
theft and robbery; sex offenses, homicide and arson are rare.
"""

from __future__ import annotations

from typing import NamedTuple


class Offense(NamedTuple):
    code: str  # NIBRS offense code (must exist in the offense table)
    weight: float  # share of incidents, in percent
    group: str  # drives persons, narrative and status
    night: bool  # peaks at night (violence, vehicles) rather than in the afternoon
    descriptions: tuple[str, ...]  # the agency's own wording


OFFENSES: tuple[Offense, ...] = (
    Offense("23H", 9.0, "theft", False, ("THEFT - $500 AND UNDER", "THEFT - OVER $500")),
    Offense("23C", 3.0, "theft", False, ("RETAIL THEFT",)),
    Offense("23F", 4.0, "theft", True, ("THEFT FROM MOTOR VEHICLE",)),
    Offense("23D", 2.5, "theft", False, ("THEFT FROM BUILDING",)),
    Offense("23A", 0.6, "theft", False, ("POCKET-PICKING",)),
    Offense("23G", 0.6, "theft", True, ("THEFT OF VEHICLE PARTS",)),
    Offense("13B", 17.0, "assault", True, ("SIMPLE BATTERY", "SIMPLE ASSAULT")),
    Offense("13A", 4.0, "assault", True, ("AGGRAVATED BATTERY", "AGGRAVATED ASSAULT: HANDGUN")),
    Offense("13C", 3.5, "assault", False, ("TELEPHONE THREAT", "INTIMIDATION")),
    Offense("290", 9.0, "damage", True, ("CRIMINAL DAMAGE TO PROPERTY", "TO VEHICLE")),
    Offense("35A", 8.5, "drugs", True, ("POSSESSION: CANNABIS", "POSSESSION: HEROIN", "MANU/DEL")),
    Offense("35B", 0.4, "drugs", True, ("POSSESSION OF DRUG EQUIPMENT",)),
    Offense("220", 6.0, "burglary", True, ("BURGLARY - FORCIBLE ENTRY", "UNLAWFUL ENTRY")),
    Offense("240", 4.5, "vehicle", True, ("MOTOR VEHICLE THEFT - AUTOMOBILE",)),
    Offense("120", 3.8, "robbery", True, ("ROBBERY - STRONGARM", "ROBBERY - ARMED: HANDGUN")),
    Offense("26A", 2.5, "fraud", False, ("FRAUD OR CONFIDENCE GAME", "THEFT OF SERVICES")),
    Offense("26B", 2.0, "fraud", False, ("CREDIT CARD FRAUD",)),
    Offense("26F", 2.2, "fraud", False, ("FINANCIAL IDENTITY THEFT",)),
    Offense("250", 0.5, "fraud", False, ("FORGERY",)),
    Offense("90J", 3.0, "other", True, ("CRIMINAL TRESPASS TO LAND", "TO RESIDENCE")),
    Offense("520", 1.0, "other", True, ("UNLAWFUL POSSESSION OF HANDGUN",)),
    Offense("90C", 1.2, "other", True, ("DISORDERLY CONDUCT", "RECKLESS CONDUCT")),
    Offense("90Z", 6.0, "other", False, ("VIOLATE ORDER OF PROTECTION", "OTHER OFFENSE")),
    Offense("11A", 0.5, "sex", True, ("CRIMINAL SEXUAL ASSAULT",)),
    Offense("11D", 0.4, "sex", True, ("CRIMINAL SEXUAL ABUSE",)),
    Offense("40A", 0.3, "other", True, ("PROSTITUTION - SOLICIT ON PUBLIC WAY",)),
    Offense("09A", 0.15, "homicide", True, ("FIRST DEGREE MURDER",)),
    Offense("200", 0.15, "damage", True, ("ARSON BY FIRE",)),
    Offense("90G", 0.2, "other", True, ("LIQUOR LAW VIOLATION",)),
    Offense("100", 0.15, "assault", False, ("KIDNAPPING - UNLAWFUL RESTRAINT",)),
)

# Share of incidents by local hour. Afternoon-peaking (thefts, fraud) and night-peaking (violence,
# vehicles, vandalism) profiles, shaped after Chicago's hourly counts: lowest around 5-6 am.
DAY_HOURS = (2, 1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 7, 8, 7, 7, 7, 7, 6, 6, 5, 4, 3, 3, 2)
NIGHT_HOURS = (6, 5, 4, 3, 2, 1, 1, 2, 2, 3, 3, 4, 5, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 7)

STATUSES = (("open", 70), ("cleared_arrest", 18), ("closed", 8), ("cleared_exceptional", 2),
            ("unfounded", 2))  # fmt: skip

ROLES_BY_GROUP: dict[str, tuple[str, ...]] = {
    "theft": ("victim", "witness", "suspect"),
    "assault": ("victim", "suspect", "witness"),
    "damage": ("victim", "witness", "suspect"),
    "drugs": ("arrestee", "witness", "arrestee"),
    "burglary": ("victim", "reporting_party", "suspect"),
    "vehicle": ("victim", "witness", "suspect"),
    "robbery": ("victim", "suspect", "witness"),
    "fraud": ("victim", "suspect", "reporting_party"),
    "other": ("reporting_party", "suspect", "witness"),
    "sex": ("victim", "suspect", "witness"),
    "homicide": ("victim", "suspect", "witness"),
}

FIRST_NAMES = (
    "James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Carlos",
    "Aisha", "Daniel", "Elena", "Kevin", "Grace", "Marcus", "Sofia", "Anthony", "Keisha", "Brian",
    "Mei", "Jamal", "Olivia", "Tyrone", "Hannah", "Luis", "Fatima", "Eric", "Rosa", "Darnell",
    "Emily", "Victor", "Nadia", "Samuel", "Teresa", "Andre", "Priya", "Gregory", "Lucia",
    "Dmitri", "Yolanda",
)  # fmt: skip
LAST_NAMES = (
    "Johnson", "Garcia", "Williams", "Nguyen", "Brown", "Martinez", "Jones", "Kowalski",
    "Davis", "Rodriguez", "Miller", "Hernandez", "Wilson", "Lopez", "Anderson", "Okafor",
    "Thomas", "Gonzalez", "Jackson", "Patel", "White", "Kim", "Harris", "Novak", "Clark",
    "Ramirez", "Lewis", "Washington", "Walker", "Robinson", "Young", "Sullivan", "Allen",
    "Murphy", "King", "Rivera", "Wright", "Schmidt", "Scott", "Delgado",
)  # fmt: skip
STREETS = (
    "MAIN ST", "OAK AVE", "ELM ST", "MAPLE AVE", "CEDAR ST", "PINE ST", "WASHINGTON BLVD",
    "LINCOLN AVE", "LAKE ST", "RIVER RD", "PRAIRIE AVE", "MILL ST", "ORCHARD LN", "WILLOW DR",
    "HICKORY ST", "CHESTNUT ST", "ASH ST", "BIRCH AVE", "WALNUT ST", "HARRISON ST",
    "JACKSON BLVD", "MADISON ST", "MONROE ST", "ADAMS ST", "FRANKLIN AVE", "GRAND AVE",
    "PARK AVE", "CENTRAL AVE", "UNION ST", "STATE ST", "COMMERCE DR", "MEADOW LN", "SUNSET DR",
    "HILLSIDE AVE", "CANAL ST", "BRIDGE ST", "MARKET ST", "CHURCH ST", "17TH ST", "63RD PL",
)  # fmt: skip
DIRECTIONS = ("N", "S", "E", "W")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
AREA_CODES = ("312", "773", "872", "815", "630", "708")
VEHICLES = ("silver Toyota Camry", "black Chevy Tahoe", "white Ford F-150", "red Honda Civic",
            "gray Nissan Altima", "blue Jeep Cherokee", "green Kia Soul")  # fmt: skip
CLOTHING = ("gray hoodie", "black puffer jacket", "red baseball cap", "blue jeans and a white "
            "t-shirt", "green army jacket", "orange safety vest")  # fmt: skip

# Narratives: {v} victim-like person, {s} second person, with their details; {loc} the location.
NARRATIVES: dict[str, tuple[str, ...]] = {
    "default": (
        "R/O responded to {loc} re: {desc}. {v} (DOB {v_dob}) stated that {s} was involved. "
        "{v} can be reached at {v_phone} or {v_email}; home address {v_home}.",
        "On arrival at {loc} R/O met reporting party {v}, tel. {v_phone}, who related the "
        "following: {desc}. Offender described as wearing a {clothing}, later identified as "
        "{s} of {s_home}. Follow-up with {v} at {v_email}.",
    ),
    "theft": (
        "{v} (tel {v_phone}) reports that property was taken from {loc} between {t1} and {t2}. "
        "Witness {s} observed a subject in a {clothing} leave in a {vehicle}. "
        "{v} resides at {v_home}; e-mail {v_email}.",
    ),
    "assault": (
        "Victim {v}, DOB {v_dob}, states that {s} struck {pron} in the face at {loc} after an "
        "argument. {s} lives at {s_home}. Victim declined medical attention. "
        "Contact victim at {v_phone}.",
        "R/O observed {v} with visible injuries at {loc}. {v} identified the offender as {s} "
        "({s_phone}). Victim's address: {v_home}. Case referred to detectives.",
    ),
    "vehicle": (
        "{v} parked a {vehicle}, plate {plate}, in front of {loc} at {t1} and found it missing "
        "at {t2}. Keys in possession of owner. Owner phone {v_phone}, address {v_home}.",
    ),
    "fraud": (
        "{v} ({v_email}, {v_phone}) reports unauthorized charges after a caller posing as the "
        "bank obtained card details. Suspect number {s_phone}; suspect name given as {s}. "
        "Victim resides at {v_home}.",
    ),
    "burglary": (
        "Victim {v} returned home to {v_home} and found the rear door forced. Missing: laptop, "
        "jewelry. Neighbor {s} ({s_phone}) saw a {vehicle} in the alley. Canvass of {loc} "
        "negative. Victim tel {v_phone}.",
    ),
    "drugs": (
        "While on patrol R/O observed {v} engage in a hand-to-hand transaction at {loc}. "
        "{v} (DOB {v_dob}) of {v_home} was detained; {s} fled on foot toward {street2}. "
        "Cell phone {v_phone} inventoried.",
    ),
}
UPDATE_NOTES = (
    "Update: offender {s} arrested at {s_home}; victim {v} notified at {v_phone}.",
    "Update: case closed after follow-up with {v} ({v_email}).",
    "Update: detectives re-interviewed {v} at {v_home}; no further leads.",
)

# Community reports: (category, weight %, texts). Categories follow the policy's public list.
# fmt: off
REPORT_TEXTS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("suspicious_activity", 26, (
        "Man in a {clothing} trying car door handles on {street}. Left in a {vehicle}, plate "
        "{plate}. Call me back at {phone}.",
        "Someone has been sitting in a {vehicle} (plate {plate}) outside {address} for hours "
        "watching the houses. I'm {name}, {phone}.",
    )),
    ("noise", 20, (
        "Loud party at {address} every weekend until 3am. The tenant, {name}, ignores us. "
        "You can reach me at {email}.",
        "Car stereo blasting at {address} nightly. Plate {plate}. Contact {phone}.",
    )),
    ("tip", 12, (
        "I know who broke into the garage at {address}: {name}, who lives at {address2}. "
        "Email me at {email} but please keep my name out of it.",
        "The person selling stolen bikes on {street} is {name}, phone {phone}.",
    )),
    ("traffic", 12, (
        "Cars speeding on {street} near the school every morning, a {vehicle} plate {plate} "
        "is the worst. I'm at {address}, call {phone}.",
    )),
    ("abandoned_vehicle", 8, (
        "A {vehicle}, plate {plate}, has been parked at {address} for three weeks with flat "
        "tires. Owner might be {name}. Reporter: {email}.",
    )),
    ("drugs", 8, (
        "Hand-to-hand sales outside {address} after 9pm, guy in a {clothing} named {name}. "
        "Text me at {phone}.",
    )),
    ("graffiti", 5, ("Fresh graffiti on the garage at {address}. Photos sent to {email}.",)),
    ("vandalism", 5, ("Windows smashed at {address} overnight. Neighbor {name} saw it, {phone}.",)),
    ("quality_of_life", 4, (
        "Trash and needles in the alley behind {address}. Please send someone. {name}, {email}.",
    )),
)
# fmt: on
CHANNELS = (("web", 35), ("app", 30), ("phone", 25), ("walk_in", 5), ("email", 5))

# Engagements: kind -> (weight %, local start hours, duration hours, attendance range, public %).
ENGAGEMENT_KINDS: dict[str, tuple[float, tuple[int, ...], int, tuple[int, int], float]] = {
    "community_meeting": (30, (18, 19), 2, (10, 80), 1.0),
    "neighborhood_watch": (20, (19,), 1, (5, 25), 0.8),
    "school_workshop": (15, (9, 10, 13), 1, (15, 120), 0.4),
    "patrol_walk": (20, (10, 16, 17), 1, (4, 20), 1.0),
    "forum": (15, (18,), 2, (20, 200), 1.0),
}
VENUE_KINDS = ("Public Library", "Community Center", "Park Fieldhouse", "Police Station",
               "Elementary School", "Senior Center", "Church Hall")  # fmt: skip
PARTNERS = (
    "Public Library", "Neighbors Association", "Elementary School PTA", "Boys & Girls Club",
    "YMCA", "Chamber of Commerce", "First Baptist Church", "Senior Services Council",
    "Safe Streets Coalition", "Unified School District", "Youth Soccer League",
    "Block Club Federation",
)  # fmt: skip
TOPICS = (
    "burglary_prevention", "traffic_safety", "youth", "school_safety", "drugs",
    "domestic_violence_awareness", "scams", "gun_violence", "mental_health", "homelessness",
    "community_policing", "neighborhood_watch", "seniors", "cyber_safety", "vehicle_theft",
)  # fmt: skip
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
# Trust and safety answers skew to the middle, like city police-trust surveys.
SCORE_WEIGHTS = (10, 15, 30, 30, 15)
SURVEY_COMMENTS = (
    "Officers were friendly at the meeting.",
    "Need more patrols on {street} at night.",
    "Nobody called me back about my report, my number is {phone}.",
    "Officer {name} was very helpful, thank you.",
    "I don't feel safe walking home from the bus stop at {address}.",
    "Please email me the meeting notes: {email}",
    "Speeding is out of control near {address}.",
)
