"""Turf cutting: split a campaign's households into walkable turfs, and order each walk list.

Located doors are cut and walked by the map (bymap); doors without coordinates by street
and house number (bystreet); the two never share a cut turf. services holds the writes.
"""

from turf.cutting.bymap import partition_doors
from turf.cutting.services import (
    BY_MAP,
    BY_STREET,
    turf_create_manual,
    turf_cut,
    walk_order,
)
from turf.cutting.sizes import TOLERANCE_PERCENT, Spread, size_spread, turf_count

__all__ = [
    "BY_MAP",
    "BY_STREET",
    "TOLERANCE_PERCENT",
    "Spread",
    "partition_doors",
    "size_spread",
    "turf_count",
    "turf_create_manual",
    "turf_cut",
    "walk_order",
]
