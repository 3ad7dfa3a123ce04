"""A local stand-in for the US Census Bureau's batch geocoder, for tests and benchmarks.

It speaks the real request and reply formats (see turf/geocoding/backends.py): a
multipart upload of `addressFile` rows "id,street,city,state,zip" and `benchmark`,
answered with CSV rows in an order of its own. What it answers:

- a street containing "NOWHERE": No_Match; "TWIN": Tie; "FUZZY": a Non_Exact match;
- `places[street line upper-cased]` = (lng, lat) when given;
- anything else: an Exact match on a made-up town grid — each street name is a row of
  the grid and its house number the distance along it, odd numbers on one side.

`fail_next(n)` makes the next n requests answer 500 (a batch to retry); `requests`
counts the batches and `addresses` the rows it was asked about. Binds 127.0.0.1 only.
"""

import csv
import email.parser
import email.policy
import hashlib
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BATCH_LIMIT = 10_000
ORIGIN = (-78.64, 35.78)  # lng, lat of the made-up town


def grid_point(street, number):
    """Where the made-up town puts house `number` on `street` (lng, lat)."""
    name = " ".join(street.upper().split())
    row = int(hashlib.sha256(name.encode()).hexdigest()[:6], 16) % 200
    side = 0.00004 if number % 2 else -0.00004
    return (ORIGIN[0] + number * 0.0000125, ORIGIN[1] + row * 0.0009 + side)


class FakeCensus:
    def __init__(self):
        self.places = {}
        self.requests = 0
        self.addresses = 0
        self._failures = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/geocoder"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, n=1):
        with self._lock:
            self._failures = n

    def answer(self, row):
        id_, street = row[0], row[1] if len(row) > 1 else ""
        city, state, zip_code = (row + ["", "", "", ""])[2:5]
        given = ", ".join(p for p in (street, city, state, zip_code))
        upper = street.upper()
        if "NOWHERE" in upper:
            return [id_, given, "No_Match"]
        if "TWIN" in upper:
            return [id_, given, "Tie"]
        number_text, _, name = street.partition(" ")
        if upper in self.places:
            lng, lat = self.places[upper]
        elif number_text.isdigit():
            lng, lat = grid_point(name, int(number_text))
        else:
            return [id_, given, "No_Match"]
        kind = "Non_Exact" if "FUZZY" in upper else "Exact"
        matched = f"{upper}, {city.upper()}, {state.upper()}, {zip_code}"
        return [id_, given, "Match", kind, matched, f"{lng:.8f},{lat:.8f}", "76225813", "L"]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, text, content_type="text/csv"):
                body = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with fake._lock:
                    fake.requests += 1
                    failing = fake._failures > 0
                    if failing:
                        fake._failures -= 1
                if failing:
                    return self._reply(500, "Internal Server Error", "text/plain")
                if not self.path.endswith("/locations/addressbatch"):
                    return self._reply(404, "Not Found", "text/plain")
                header = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
                message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
                    header + raw
                )
                fields = {
                    part.get_param("name", header="content-disposition"): part.get_content()
                    for part in message.iter_parts()
                }
                if not fields.get("benchmark"):
                    return self._reply(400, "Benchmark is required.", "text/plain")
                upload = fields.get("addressFile")
                if isinstance(upload, bytes):
                    upload = upload.decode("utf-8")
                rows = [r for r in csv.reader(io.StringIO(upload or "")) if r]
                if len(rows) > BATCH_LIMIT:
                    return self._reply(400, "Batch files are limited to 10,000 records.")
                with fake._lock:
                    fake.addresses += len(rows)
                out = io.StringIO()
                writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
                # The real service answers in an order of its own.
                for row in sorted(rows, key=lambda r: r[0][::-1]):
                    writer.writerow(fake.answer(row))
                return self._reply(200, out.getvalue())

        return Handler
