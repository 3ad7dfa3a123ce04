"""Locating households: geocoding jobs with progress, the shared cache, and the
organizer's hand fixes (place a door on the map, or correct its address and retry)."""

import logging
import re
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from canvass.celery import enqueue_on_commit
from canvass.models import AuditEvent
from turf.geocoding.backends import AddressQuery, GeocoderUnavailable, geocoder_get
from turf.models import GeocodeCache, GeocodeJob, Household

log = logging.getLogger(__name__)

UPDATE_BATCH = 1000
LOOKUP_BATCH = 2000
# Seconds to wait before the n-th new try of a batch that got no answer.
RETRY_WAIT = (1, 4, 15)
# A job nobody picked up in this long lost its publish; the sweep sends it again.
STALE_PENDING = timedelta(minutes=2)
STALE_RUNNING = timedelta(minutes=15)

_NOT_KEY = re.compile(r"[^A-Z0-9 ]")
GEOCODE_FIELDS = ("geocoder", "location_quality", "location_detail", "geocoded_at", "lat", "lng")


def _norm(text):
    return " ".join(_NOT_KEY.sub(" ", (text or "").upper()).split())


def geocode_key(household) -> str:
    """The cache key of a household's address: its building, not its unit.

    The import's parsed parts are used when present, so "North Main Street" and
    "N Main St" are one key; the ZIP code, else city and state, says which town.
    """
    parts = household.address_parts or {}
    if parts.get("name"):
        words = [parts.get(k, "") for k in ("number", "predir", "name", "type", "postdir")]
        street = _norm(" ".join(words))
    else:
        street = _norm(f"{household.house_number} {household.street}")
    zip5 = (household.zip_code or "").strip()[:5]
    place = zip5 if zip5.isdigit() else _norm(f"{household.city} {household.state}")
    return f"{street} {place}"[:300]


def unlocated_counts(campaign):
    """{"unlocated": n, "pending": n, "not_found": n} for the dashboard."""
    unlocated = Household.objects.filter(campaign=campaign).unlocated()
    pending = unlocated.filter(geocoder="").count()
    total = unlocated.count()
    return {"unlocated": total, "pending": pending, "not_found": total - pending}


def geocode_job_create(*, campaign, created_by=None):
    """Queue a geocoding run for the campaign's households still waiting for a location.

    Returns the job; a job already waiting or running for the campaign is returned
    instead of a second one. The task is sent after the transaction commits.
    """
    with transaction.atomic():
        from canvass.models import Campaign

        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        job = GeocodeJob.objects.filter(
            campaign=campaign, status__in=[GeocodeJob.Status.PENDING, GeocodeJob.Status.RUNNING]
        ).first()
        if job:
            return job
        job = GeocodeJob.objects.create(campaign=campaign, created_by=created_by)
        enqueue_on_commit("turf.tasks.geocode_job_run", job.pk)
    return job


def geocode_jobs_sweep(now=None):
    """Send again the jobs whose publish was lost, and reopen runs whose worker died.

    Returns the ids sent. Called by beat; a job is claimed before it runs, so a
    second delivery does nothing.
    """
    now = now or timezone.now()
    GeocodeJob.objects.filter(
        status=GeocodeJob.Status.RUNNING, updated_at__lt=now - STALE_RUNNING
    ).update(status=GeocodeJob.Status.PENDING)
    ids = list(
        GeocodeJob.objects.filter(
            status=GeocodeJob.Status.PENDING, created_at__lt=now - STALE_PENDING
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue_on_commit("turf.tasks.geocode_job_run", pk)
    return ids


def _apply(answers_by_key, households_by_key, geocoder_name, now):
    """Write answers onto the households of each key; returns (located, not_found)."""
    located = not_found = 0
    changed = []
    for key, answer in answers_by_key.items():
        for pk in households_by_key.get(key, ()):
            h = Household(pk=pk)
            h.geocoder = answer.geocoder if hasattr(answer, "geocoder") else geocoder_name
            h.location_quality = answer.quality
            h.location_detail = answer.detail
            h.geocoded_at = now
            h.lat, h.lng = answer.lat, answer.lng
            changed.append(h)
            if answer.lat is not None:
                located += 1
            else:
                not_found += 1
    _households_write(changed)
    return located, not_found


def _households_write(changed):
    """Write the geocode fields of `changed` (unsaved Household objects with pks).

    On PostgreSQL one UPDATE … FROM (VALUES …) a batch: bulk_update's CASE per field
    grows with the batch and was most of a run's time.
    """
    if connection.vendor != "postgresql":
        Household.objects.bulk_update(changed, GEOCODE_FIELDS, batch_size=UPDATE_BATCH)
        return
    table = connection.ops.quote_name(Household._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(changed), UPDATE_BATCH):
            batch = changed[start : start + UPDATE_BATCH]
            rows = ", ".join(
                ["(%s, %s, %s, %s, %s::timestamptz, %s::float8, %s::float8)"] * len(batch)
            )
            params = []
            for h in batch:
                params += [
                    h.pk, h.geocoder, h.location_quality, h.location_detail[:200],
                    h.geocoded_at, h.lat, h.lng,
                ]  # fmt: skip
            cursor.execute(
                f"UPDATE {table} AS h SET geocoder = v.geocoder, location_quality = v.quality, "
                "location_detail = v.detail, geocoded_at = v.at, lat = v.lat, lng = v.lng "
                f"FROM (VALUES {rows}) AS v (id, geocoder, quality, detail, at, lat, lng) "
                "WHERE h.id = v.id",
                params,
            )


def _ask(geocoder, queries):
    """Answers for one batch, trying again after a pause when it gets none."""
    tries = max(1, settings.GEOCODER_RETRIES + 1)
    for attempt in range(tries):
        try:
            return geocoder.geocode(queries)
        except GeocoderUnavailable as exc:
            if attempt + 1 == tries:
                raise
            wait = RETRY_WAIT[min(attempt, len(RETRY_WAIT) - 1)]
            log.warning("geocoding batch failed (%s); trying again in %s s", exc, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


def geocode_job_run(*, job, geocoder=None):
    """Locate the job's campaign's households that wait for a location. Returns the job.

    Households whose voter file had coordinates are marked as such; every other
    address is looked up in the cache first, then sent to the geocoder in batches,
    several at once. Progress is written to the job as batches come back. A batch
    that gets no answer after its retries leaves its households waiting (the job
    says how many) and caches nothing; every answer that did come back is kept.
    """
    geocoder = geocoder or geocoder_get()
    campaign = job.campaign
    now = timezone.now()
    job.status = GeocodeJob.Status.RUNNING
    job.geocoder = geocoder.name if geocoder else ""
    job.save(update_fields=["status", "geocoder", "updated_at"])

    Household.objects.filter(
        campaign=campaign, geocoder="", lat__isnull=False, lng__isnull=False
    ).update(geocoder="file", location_quality=Household.Quality.EXACT, geocoded_at=now)
    pending = Household.objects.filter(campaign=campaign, geocoder="").only(
        "pk", "house_number", "street", "city", "state", "zip_code", "address_parts"
    )
    by_key = defaultdict(list)
    first = {}
    for household in pending.iterator(chunk_size=5000):
        key = geocode_key(household)
        by_key[key].append(household.pk)
        first.setdefault(key, household)
    job.households_total = sum(len(pks) for pks in by_key.values())
    job.households_done = job.located = job.not_found = job.from_cache = job.still_pending = 0
    job.save(
        update_fields=[
            "households_total",
            "households_done",
            "located",
            "not_found",
            "from_cache",
            "still_pending",
            "updated_at",
        ]
    )

    def progress(located, not_found, cached=0):
        job.located += located
        job.not_found += not_found
        job.from_cache += cached
        job.households_done = job.located + job.not_found
        GeocodeJob.objects.filter(pk=job.pk).update(
            households_done=job.households_done,
            located=job.located,
            not_found=job.not_found,
            from_cache=job.from_cache,
            updated_at=timezone.now(),
        )

    keys = list(by_key)
    misses = []
    for start in range(0, len(keys), LOOKUP_BATCH):
        chunk = keys[start : start + LOOKUP_BATCH]
        hits = {c.key: c for c in GeocodeCache.objects.filter(key__in=chunk)}
        misses.extend(k for k in chunk if k not in hits)
        if hits:
            located, not_found = _apply(_cached_answers(hits), by_key, "", now)
            progress(located, not_found, located + not_found)

    failures = []
    if misses and geocoder is None:
        failures.append("no geocoder is configured (GEOCODER=none)")
    elif misses:
        batches = [
            misses[i : i + geocoder.batch_size] for i in range(0, len(misses), geocoder.batch_size)
        ]
        workers = max(1, min(settings.GEOCODER_PARALLEL, len(batches)))
        # Threads only wait on the network; every database write stays in this thread.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(
                    _ask, geocoder, [_query(str(i), first[k]) for i, k in enumerate(batch)]
                ): batch
                for batch in batches
            }
            for future in as_completed(futures):
                batch = futures[future]
                try:
                    answers = future.result()
                except GeocoderUnavailable as exc:
                    failures.append(str(exc))
                    job.still_pending += sum(len(by_key[k]) for k in batch)
                    continue
                by_id = {a.id: a for a in answers}
                got = {}
                for index, key in enumerate(batch):
                    answer = by_id.get(str(index))
                    if answer is not None:
                        got[key] = answer
                GeocodeCache.objects.bulk_create(
                    [
                        GeocodeCache(
                            key=key,
                            geocoder=geocoder.name,
                            quality=a.quality,
                            lat=a.lat,
                            lng=a.lng,
                            detail=a.detail,
                        )
                        for key, a in got.items()
                    ],
                    ignore_conflicts=True,
                    batch_size=UPDATE_BATCH,
                )
                located, not_found = _apply(got, by_key, geocoder.name, timezone.now())
                progress(located, not_found)

    job.finished_at = timezone.now()
    if failures:
        job.status = GeocodeJob.Status.FAILED
        job.still_pending = job.households_total - job.households_done
        job.error = (
            f"{job.still_pending} households are still waiting for a location: "
            f"{failures[0]}. Try again later with “Locate now”."
        )
    else:
        job.status = GeocodeJob.Status.DONE
        job.error = ""
    job.save()
    AuditEvent.objects.create(
        campaign=campaign,
        actor=job.created_by,
        action="households.geocode",
        target=f"geocode job {job.pk}",
        detail={
            "geocoder": job.geocoder,
            "households": job.households_total,
            "located": job.located,
            "not_found": job.not_found,
            "from_cache": job.from_cache,
            "still_pending": job.still_pending,
        },
    )
    return job


class _CachedAnswer:
    __slots__ = ("quality", "lat", "lng", "detail", "geocoder")

    def __init__(self, cache):
        self.quality, self.lat, self.lng = cache.quality, cache.lat, cache.lng
        self.detail, self.geocoder = cache.detail, cache.geocoder


def _cached_answers(hits):
    return {key: _CachedAnswer(cache) for key, cache in hits.items()}


def _query(id_, household):
    return AddressQuery(
        id=id_,
        street=f"{household.house_number} {household.street}",
        city=household.city,
        state=household.state,
        zip_code=(household.zip_code or "")[:10],
    )
