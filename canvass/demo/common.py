"""Shared by every part of the demo: its fixed seed, logins and the phone pool."""

import functools
import random
import unicodedata
import uuid

import phonenumbers

from canvass.demo.data import (
    AREA_CODES,
)

SEED = "porchlight-demo-1"


DEMO_SLUG = "demo"


DEMO_PASSWORD = "porchlight-demo"


VISIT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "porchlight:demo:visits")


def _rng(section):
    # A string seed is hashed the same way on every run and platform.
    return random.Random(f"{SEED}:{section}")


@functools.cache
def _phone_pool():
    """Fictional numbers in a fixed shuffled order; volunteers take the first ones."""
    numbers = []
    for area in AREA_CODES:
        for line in range(100, 200):
            e164 = f"+1{area}5550{line}"
            if phonenumbers.is_valid_number(phonenumbers.parse(e164)):
                numbers.append(e164)
    _rng("phones").shuffle(numbers)
    return tuple(numbers)


def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace(" ", "")
