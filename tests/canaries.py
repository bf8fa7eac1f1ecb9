"""Person names that read like organisations (issue 9.5), for the unit and the attack tests.

The anonymizer once published any partner or venue holding an "organisation word"; 10 of 13
person names went out. Every name here holds such a word (OLD_WORDS, from the removed list), so
each was published before the name registry; NEEDLES are their person parts, searched for
(case-folded) in whatever is published.
"""

from __future__ import annotations

PERSON_NAMES = (
    "Jane Park",
    "Sgt Mike Hall",
    "Pastor Jane Park of Grace Church",
    "Jane Park Neighbors Club",
    "Officer Tom Church",
    "Maria Garden",
    "Dr Amy Court",
    "John Bank",
    "Linda Union",
    "Carlos Mission",
    "Rev. Samuel Temple",
    "Mrs Kim Street's Block Club",
    "Eastgate Public Library, ask for Jane Park",
)
OLD_WORDS = frozenset(
    ("park", "hall", "church", "club", "garden", "court", "bank", "union", "mission", "temple")
) | {"block", "library"}
NEEDLES = (
    "jane park",
    "mike hall",
    "grace church",
    "tom church",
    "maria garden",
    "amy court",
    "john bank",
    "linda union",
    "carlos mission",
    "samuel temple",
    "kim street",
)
