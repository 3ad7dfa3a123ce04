"""Benchmark: the door screen's first-load weight and its "saved on this phone" time (issue 4).

Budgets (docs/DESIGN.md): first load (HTML + CSS + JS) at most 100 KB gzipped, JavaScript
at most 40 KB gzipped; tap "save" → "saved on this phone" within 100 ms, whatever the network.

    .venv/bin/python bench/door_budget.py                   # sizes only, no database needed
    .venv/bin/python bench/door_budget.py --save-latency    # also time saves in Chromium

Sizes: the page is rendered through Django exactly as a phone receives it, the CSS and the
JavaScript modules are read from the static files; each is gzipped at level 9 (what
WhiteNoise serves) and at level 6 (a typical proxy). The service worker and the manifest are
listed apart: they load after the page is up and do not delay it.

--save-latency runs the app on a throwaway SQLite database with a --doors turf (500), opens
the door screen in headless Chromium at 360x640 and prints how long the walk list took to
appear (online, then reopened with the network cut: from IndexedDB and the service worker).
Still offline (the worst case) it records --taps non-contacts and reads the `door-save`
performance measures the page makes between the tap and "Saved on this phone".
Exits with status 1 when a budget is exceeded.
"""

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_LOAD_BUDGET = 100 * 1024
JS_BUDGET = 40 * 1024
SAVE_BUDGET_MS = 100


def gz(data, level):
    return len(gzip.compress(data, compresslevel=level, mtime=0))


def measure_sizes():
    from django.contrib.staticfiles import finders
    from django.test import Client
    from django.urls import reverse

    from conversations.door_views import DOOR_ASSETS

    client = Client()
    files = [("page (HTML)", client.get(reverse("door_shell")).content)]
    for name in DOOR_ASSETS:
        files.append((name, Path(finders.find(name)).read_bytes()))
    later = [
        ("service worker", client.get(reverse("door_service_worker")).content),
        ("manifest", client.get(reverse("door_manifest", args=["x"])).content),
    ]
    print(f"{'file':<22}{'raw':>9}{'gzip -9':>10}{'gzip -6':>10}")
    totals = {"all": [0, 0, 0], "js": [0, 0, 0]}
    for label, data in files:
        row = (len(data), gz(data, 9), gz(data, 6))
        print(f"{label:<22}{row[0]:>9,}{row[1]:>10,}{row[2]:>10,}")
        for key in ("all", "js") if label.endswith(".js") else ("all",):
            totals[key] = [t + r for t, r in zip(totals[key], row, strict=True)]
    print(
        f"{'JavaScript, in all':<22}{totals['js'][0]:>9,}{totals['js'][1]:>10,}"
        f"{totals['js'][2]:>10,}   budget {JS_BUDGET:,}"
    )
    print(
        f"{'first load, in all':<22}{totals['all'][0]:>9,}{totals['all'][1]:>10,}"
        f"{totals['all'][2]:>10,}   budget {FIRST_LOAD_BUDGET:,}"
    )
    for label, data in later:
        print(f"{label + ' (after)':<22}{len(data):>9,}{gz(data, 9):>10,}{gz(data, 6):>10,}")
    worst_js, worst_all = max(totals["js"][1:]), max(totals["all"][1:])
    return worst_js <= JS_BUDGET and worst_all <= FIRST_LOAD_BUDGET


def measure_save_latency(taps, doors):
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread
    from django.urls import reverse
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS
    from tests.factories import CampaignFactory, TurfFactory, VolunteerFactory
    from turf.services import assignment_create

    call_command("migrate", verbosity=0)
    campaign = CampaignFactory()
    _, token = assignment_create(
        turf=TurfFactory(campaign=campaign, doors=doors),
        volunteers=[VolunteerFactory(campaign=campaign)],
    )
    server = LiveServerThread("localhost", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 360, "height": 640})
            page = context.new_page()
            link = f"http://localhost:{server.port}{reverse('assignment_open', args=[token])}"
            last = f"li.door:nth-child({doors})"
            started = time.perf_counter()
            page.goto(link)
            page.wait_for_selector(last, state="attached")
            online_ms = (time.perf_counter() - started) * 1000
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.wait_for_function("navigator.serviceWorker.controller !== null")
            context.set_offline(True)
            started = time.perf_counter()
            page.reload()
            page.wait_for_selector(last, state="attached")
            offline_ms = (time.perf_counter() - started) * 1000
            print(
                f"{doors}-door walk list on screen: first open {online_ms:.0f} ms, "
                f"reopened offline {offline_ms:.0f} ms"
            )
            buttons = page.locator("li.door button[data-outcome=not_home]")
            for n in range(taps):
                buttons.nth(n % buttons.count()).click()
                page.wait_for_function(
                    f"performance.getEntriesByName('door-save').length === {n + 1}"
                )
            durations = page.evaluate(
                "performance.getEntriesByName('door-save').map((m) => m.duration)"
            )
            browser.close()
    finally:
        server.terminate()
    durations.sort()
    p95 = durations[max(0, round(0.95 * len(durations)) - 1)]
    print(
        f"save → 'Saved on this phone', offline, {len(durations)} taps: "
        f"median {statistics.median(durations):.1f} ms, p95 {p95:.1f} ms, "
        f"max {durations[-1]:.1f} ms   budget {SAVE_BUDGET_MS} ms"
    )
    return p95 <= SAVE_BUDGET_MS


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--save-latency", action="store_true")
    parser.add_argument("--taps", type=int, default=40)
    parser.add_argument("--doors", type=int, default=500)
    args = parser.parse_args()
    if args.save_latency:
        # A throwaway database: the bench never touches the demo's data.
        folder = tempfile.mkdtemp(prefix="door-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver", "localhost"]
    ok = measure_sizes()
    if args.save_latency:
        ok = measure_save_latency(args.taps, args.doors) and ok
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average, {os.cpu_count()} cores)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
