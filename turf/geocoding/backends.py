"""Geocoders: one interface, the US Census Bureau's batch geocoder by default, and a
self-hosted Nominatim as the option.

A backend takes a batch of addresses and answers each one: located (with a quality), or
not found. A batch it could not get answered at all (no network, a 5xx, a garbled reply)
raises GeocoderUnavailable and caches nothing: those addresses are tried again later.
"""

import csv
import io
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The Census batch geocoder takes at most this many addresses a request.
CENSUS_BATCH_LIMIT = 10_000
CENSUS_URL = "https://geocoding.geo.census.gov/geocoder"
CENSUS_BENCHMARK = "Public_AR_Current"


@dataclass(frozen=True)
class AddressQuery:
    """One address to look up; `id` comes back with its answer."""

    id: str
    street: str  # "123 N Main St"
    city: str = ""
    state: str = ""
    zip_code: str = ""


@dataclass(frozen=True)
class Answer:
    id: str
    quality: str  # a Household.Quality value
    lat: float | None = None
    lng: float | None = None
    detail: str = ""

    @property
    def located(self):
        return self.lat is not None and self.lng is not None


class GeocoderUnavailable(Exception):
    """The batch got no answer: try it again later."""


class Geocoder(ABC):
    name = ""
    batch_size = 100

    @abstractmethod
    def geocode(self, queries: list[AddressQuery]) -> list[Answer]:
        """An Answer for every query (any order). Raises GeocoderUnavailable."""


def _clean(text):
    # The Census reads its upload as CSV with no quoting rules of its own: keep cells plain.
    return " ".join(str(text or "").replace(",", " ").replace('"', " ").split())


class CensusGeocoder(Geocoder):
    """The US Census Bureau's batch geocoder: a CSV of up to 10,000 addresses in, a CSV out.

    Request: multipart/form-data with `addressFile` (rows of id, street, city, state, ZIP;
    no header) and `benchmark`. Reply: one row per address, in any order —
    id, the address as read, Match / No_Match / Tie, then for a match Exact / Non_Exact,
    the matched address, "lng,lat", the TIGER line id and its side.
    """

    name = "census"

    def __init__(self, url=CENSUS_URL, *, benchmark=CENSUS_BENCHMARK, timeout=300, batch_size=None):
        self.endpoint = url.rstrip("/") + "/locations/addressbatch"
        self.benchmark = benchmark
        self.timeout = timeout
        self.batch_size = min(batch_size or CENSUS_BATCH_LIMIT, CENSUS_BATCH_LIMIT)

    def _body(self, queries):
        upload = io.StringIO()
        writer = csv.writer(upload, lineterminator="\n")
        for q in queries:
            writer.writerow([q.id, _clean(q.street), _clean(q.city), _clean(q.state), q.zip_code])
        boundary = f"porchlight-{secrets.token_hex(12)}"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="benchmark"\r\n\r\n'
            f"{self.benchmark}\r\n",
            f'--{boundary}\r\nContent-Disposition: form-data; name="addressFile"; '
            f'filename="addresses.csv"\r\nContent-Type: text/csv\r\n\r\n'
            f"{upload.getvalue()}\r\n",
            f"--{boundary}--\r\n",
        ]
        return "".join(parts).encode("utf-8"), f"multipart/form-data; boundary={boundary}"

    def geocode(self, queries):
        if len(queries) > CENSUS_BATCH_LIMIT:
            raise ValueError(f"The Census geocoder takes at most {CENSUS_BATCH_LIMIT} a batch.")
        body, content_type = self._body(queries)
        request = urllib.request.Request(
            self.endpoint, data=body, method="POST", headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode("utf-8", errors="replace")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise GeocoderUnavailable(f"the Census geocoder did not answer: {exc}") from exc
        wanted = {q.id for q in queries}
        answers = {}
        for row in csv.reader(io.StringIO(text)):
            if not row or row[0] not in wanted:
                continue
            answers[row[0]] = _census_answer(row)
        missing = wanted - answers.keys()
        if missing:
            # A cut-off or garbled reply: nothing in it can be trusted to be complete.
            raise GeocoderUnavailable(
                f"the Census geocoder's reply left out {len(missing)} of {len(wanted)} addresses"
            )
        return list(answers.values())


def _census_answer(row):
    from turf.models import Household

    id_, status = row[0], (row[2] if len(row) > 2 else "").strip()
    if status == "Match" and len(row) >= 6:
        try:
            lng, lat = (float(v) for v in row[5].split(","))
        except ValueError:
            return Answer(
                id_, Household.Quality.FAILED, detail="The geocoder's answer had no point."
            )
        quality = (
            Household.Quality.EXACT if row[3].strip() == "Exact" else Household.Quality.INTERPOLATED
        )
        return Answer(id_, quality, lat=lat, lng=lng, detail=f"Matched {row[4]}"[:200])
    if status == "Tie":
        return Answer(
            id_, Household.Quality.FAILED, detail="Several places match this address (a tie)."
        )
    return Answer(id_, Household.Quality.FAILED, detail="No match for this address.")


class NominatimGeocoder(Geocoder):
    """A self-hosted Nominatim (OpenStreetMap's geocoder) at a configurable URL.

    Nominatim answers one address a request, so a batch is a loop; the job runs several
    batches at once. Only run this against your own server: the public one forbids bulk use.
    """

    name = "nominatim"
    batch_size = 50

    def __init__(self, url, *, timeout=30):
        if not url:
            raise ImproperlyConfigured("GEOCODER=nominatim needs GEOCODER_URL (your server).")
        self.url = url.rstrip("/") + "/search"
        self.timeout = timeout

    def _one(self, query):
        from turf.models import Household

        params = {
            "street": query.street,
            "city": query.city,
            "state": query.state,
            "postalcode": query.zip_code,
            "countrycodes": "us",
            "format": "jsonv2",
            "limit": "1",
        }
        url = f"{self.url}?{urllib.parse.urlencode({k: v for k, v in params.items() if v})}"
        request = urllib.request.Request(url, headers={"User-Agent": "Porchlight"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                found = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise GeocoderUnavailable(f"Nominatim did not answer: {exc}") from exc
        if not found:
            return Answer(query.id, Household.Quality.FAILED, detail="No match for this address.")
        hit = found[0]
        kind = hit.get("addresstype") or hit.get("type") or ""
        if kind in ("house", "building") or hit.get("category") == "building":
            quality = Household.Quality.EXACT
        elif kind == "postcode":
            quality = Household.Quality.ZIP_CENTROID
        elif kind in ("road", "street"):
            quality = Household.Quality.STREET
        else:
            quality = Household.Quality.INTERPOLATED
        return Answer(
            query.id,
            quality,
            lat=float(hit["lat"]),
            lng=float(hit["lon"]),
            detail=f"Matched {hit.get('display_name', '')}"[:200],
        )

    def geocode(self, queries):
        return [self._one(q) for q in queries]


def geocoder_get() -> Geocoder | None:
    """The configured geocoder, or None when GEOCODER=none (households wait to be placed)."""
    name = (settings.GEOCODER or "none").lower()
    if name == "none":
        return None
    if name == "census":
        return CensusGeocoder(
            settings.GEOCODER_URL or CENSUS_URL,
            timeout=settings.GEOCODER_TIMEOUT,
            batch_size=settings.GEOCODER_BATCH_SIZE or None,
        )
    if name == "nominatim":
        return NominatimGeocoder(settings.GEOCODER_URL, timeout=settings.GEOCODER_TIMEOUT)
    raise ImproperlyConfigured(f"GEOCODER must be census, nominatim or none (got {name!r}).")
