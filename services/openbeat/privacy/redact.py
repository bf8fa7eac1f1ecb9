"""Free-text redaction for text that may be published.

`redact_text` is applied to community-report descriptions when a policy publishes them. It
replaces e-mails, URLs, phone numbers, street addresses, licence plates and other mixed
letter-digit tokens, every remaining digit, and name-like tokens (capitalized or all-caps words
outside a small allow-list, and the word after a cue such as "Mr" or "my neighbor") with bracketed
markers. Without a dictionary it cannot tell a name from a proper noun, so it drops both: the
result is lossy on purpose. A lower-case name without a cue ("saw john yesterday") is the known
gap, which is why report text stays unpublished by default.

Partner and venue names are not judged here: no word list can tell "Sgt Mike Hall" from a hall,
so they are published only when the jurisdiction's name registry lists them (privacy/names.py).
"""

from __future__ import annotations

import re

# Cap on published text; the tail of a very long description is dropped, not redacted.
MAX_TEXT_CHARS = 1000

_URL = re.compile(
    r"(?i)\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|io|us|info|biz|co|me|ly)\b\S*"
)
_EMAIL = re.compile(
    r"(?i)[\w.+-]+\s*(?:@|\(at\)|\[at\]|\s+at\s+)\s*[\w-]+(?:\s*(?:\.|\(dot\)|\[dot\]|\s+dot\s+)\s*[\w-]+)+"
)
_STREET_WORDS = (
    r"street|st|avenue|ave|av|boulevard|blvd|road|rd|drive|dr|place|pl|court|ct|lane|ln|"
    r"terrace|ter|parkway|pkwy|highway|hwy|way|circle|cir|square|sq|trail|trl|plaza|plz"
)
_ADDRESS = re.compile(
    rf"(?i)\b\d+[a-z]?(?:\s*-\s*\d+)?(?:\s+1/2)?\s+(?:[nsew]\.?\s+)?(?:[\w'.-]+\s+){{0,3}}?"
    rf"(?:{_STREET_WORDS})\b\.?(?:\s*(?:apt|unit|suite|ste|#)\s*\.?\s*\w+)?"
)
_BLOCK = re.compile(r"(?i)\b\d+\s*(?:xx|00)?\s+block\s+of\b")
_PHONE = re.compile(r"\+?\(?\d[\d\s().\-/]{5,}\d(?:\s*(?:x|ext\.?)\s*\d+)?")
_PLATE_CUE = re.compile(
    r"(?i)\b(plates?|tags?|licen[cs]e(?:\s+plate)?|reg(?:istration)?)(\s*(?:#|no\.?|number|is|:)?\s*)"
    r"([A-Za-z0-9][A-Za-z0-9 -]{1,9}[A-Za-z0-9])"
)
_MIXED = re.compile(
    r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b"
)
_DIGITS = re.compile(r"\d+")
_NAME_CUE = re.compile(
    r"(?i)\b(mr|mrs|ms|miss|mx|dr|prof|officer|ofc|sgt|det|detective|deputy|neighbou?r|friend|"
    r"brother|sister|mother|father|mom|mum|dad|wife|husband|son|daughter|boyfriend|girlfriend|"
    r"landlord|landlady|roommate|cousin|uncle|aunt|nephew|niece|named|called|name\s+is|known\s+as|"
    r"aka|manager|tenant|owner|coworker|boss)\b(\.?,?:?\s+)([^\W\d_][\w'’-]*)((?:\s+[^\W\d_][\w'’-]*)?)"
)
_WORD = re.compile(r"[^\W\d_][\w'’]*")
_MARKER_RUN = re.compile(r"(\[([A-Z]+)\])(?:[\s,.'’-]*\[\2\])+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# Capitalized words that are ordinary at a sentence start or in reports; anything else
# capitalized may be a name and is replaced.
_ALLOWED_CAPITALIZED_TEXT = """
    a an the i i'm i've i'd we you he she it they this that these those there here my our your
    his her its their someone somebody anyone nobody everyone people person man woman men women
    guy guys kid kids teens teenagers children group car cars truck van vehicle bike dog dogs
    last every yesterday today tonight tomorrow morning afternoon evening night weekend week
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december please thanks thank hello hi also and
    but or so then when while after before around about at on in near behind across outside
    inside into from with without to of for by again still just several some many all lots most
    two three four five six seven eight nine ten one police noise loud music party suspicious
    drugs drug graffiti trash garbage help not no yes ok is are was were has have had can could
    would should will did do does if because since until what who why how where which street
    avenue road block corner alley park lot parking store shop school house home apartment
    building north south east west northeast northwest southeast southwest left right front back
    there's it's he's she's they're we're don't can't won't didn't isn't wasn't saw seen heard
    looks looked looking seems broken open closed red blue green black white gray grey silver
    dark light small large big old new young other another each both any call called
    calling reported report reporting went came keep keeps every
"""
ALLOWED_CAPITALIZED = frozenset(_ALLOWED_CAPITALIZED_TEXT.split())


def redact_text(text: str) -> str:
    """The text with contact data, numbers, addresses, plates and name-like tokens replaced."""
    text = _CONTROL.sub(" ", text[:MAX_TEXT_CHARS])
    text = _EMAIL.sub("[EMAIL]", text)
    text = _URL.sub("[URL]", text)
    text = _BLOCK.sub("[ADDRESS]", text)
    text = _ADDRESS.sub("[ADDRESS]", text)
    text = _PLATE_CUE.sub(lambda m: f"{m.group(1)}{m.group(2)}[PLATE]", text)
    text = _PHONE.sub("[PHONE]", text)
    text = _MIXED.sub("[ID]", text)
    text = _DIGITS.sub("[NUMBER]", text)
    text = _NAME_CUE.sub(_name_after_cue, text)
    text = _WORD.sub(_name_like, text)
    return _MARKER_RUN.sub(r"\1", text).strip()


def _name_after_cue(match: re.Match[str]) -> str:
    cue, gap, first, second = match.groups()
    if first.lower() in ALLOWED_CAPITALIZED and not first[0].isupper():
        return match.group(0)  # "my neighbor is loud": no name follows
    rest = " [NAME]" if second.strip() and second.strip()[0].isupper() else second
    return f"{cue}{gap}[NAME]{rest}"


def _name_like(match: re.Match[str]) -> str:
    word = match.group(0)
    if word in {"NAME", "EMAIL", "URL", "PHONE", "ADDRESS", "PLATE", "ID", "NUMBER"}:
        return word  # our own markers
    if not word[0].isupper():
        return word
    if word.lower().replace("’", "'") in ALLOWED_CAPITALIZED:
        return word
    return "[NAME]"
