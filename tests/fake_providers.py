"""Local stand-ins for Twilio's Messages API and an SMTP server, for fault tests.

Each binds 127.0.0.1 on a free port and records what it was sent, so a test can count
the copies a person would have received. Each misbehaves the way a test says, after it
has read the whole request (the provider "took" it):

FakeTwilio.mode:
- "ok": 201 with a message sid;
- an int (429, 400, 502, 504…): that status, with a Twilio-style JSON error;
- "reset": the connection is reset (RST) instead of an answer;
- "close": the connection is closed without an answer;
- "trickle": a 201 written one byte every `trickle_every` seconds;
- "slow": a 201 after `delay` seconds (first `on_request` is called, e.g. to run a sweep).

FakeSmtp.mode: "ok"; "drop_after_data" (takes the whole message, closes before its 250);
"refuse_rcpt_450" / "refuse_rcpt_550"; "refuse_data_554" (554 after the message).
"""

import email
import json
import socket
import socketserver
import struct
import threading
import time
import urllib.parse
import uuid


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Fake:
    def __init__(self):
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self):
        return self.server.server_address[1]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _reset(sock):
    # SO_LINGER 0: close() sends a RST, what a crashed proxy or a dropped link looks like.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FakeTwilio(_Fake):
    def __init__(self, mode="ok"):
        self.mode = mode
        self.requests = []  # (headers, form) of each request read in full
        self.trickle_every = 0.5
        self.delay = 0.0
        self.on_request = None
        super().__init__()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def messages(self):
        """The texts it took, in order: (to, body)."""
        return [(form.get("To"), form.get("Body")) for _headers, form in self.requests]

    def _handler(self):
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                request_line = self.rfile.readline()
                if not request_line:
                    return
                headers = {}
                while True:
                    line = self.rfile.readline().decode("latin-1")
                    if line in ("\r\n", "\n", ""):
                        break
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = self.rfile.read(int(headers.get("content-length") or 0))
                form = dict(urllib.parse.parse_qsl(body.decode()))
                with fake.lock:
                    fake.requests.append((headers, form))
                    mode = fake.mode
                if fake.on_request is not None:
                    fake.on_request()
                if mode == "reset":
                    return _reset(self.connection)
                if mode == "close":
                    return self.connection.close()
                if mode == "ok" or mode in ("trickle", "slow"):
                    status, answer = 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued"}
                else:
                    status, answer = mode, {"code": 20000 + mode, "message": f"status {mode}"}
                payload = json.dumps(answer).encode()
                raw = (
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
                ).encode() + payload
                if mode == "slow":
                    time.sleep(fake.delay)
                if mode == "trickle":
                    for byte in raw:
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:
                            return  # the client gave up: what the deadline is for
                        time.sleep(fake.trickle_every)
                    return
                self.wfile.write(raw)

        return Handler


class FakeSmtp(_Fake):
    def __init__(self, mode="ok"):
        self.mode = mode
        self.messages = []  # email.message.Message of each message taken in full
        super().__init__()

    def _handler(self):
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def say(self, line):
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self):
                self.say("220 fake ESMTP")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode().strip().split(" ")[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.say("250 fake")
                    elif verb == "MAIL":
                        self.say("250 OK")
                    elif verb == "RCPT":
                        if fake.mode.startswith("refuse_rcpt_"):
                            self.say(f"{fake.mode[-3:]} no thanks")
                        else:
                            self.say("250 OK")
                    elif verb == "DATA":
                        self.say("354 go ahead")
                        lines = []
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b""):
                                break
                            lines.append(chunk)
                        with fake.lock:
                            fake.messages.append(email.message_from_bytes(b"".join(lines)))
                        if fake.mode == "drop_after_data":
                            return _reset(self.connection)
                        if fake.mode == "refuse_data_554":
                            self.say("554 rejected")
                        else:
                            self.say("250 queued")
                    elif verb == "QUIT":
                        self.say("221 bye")
                        return
                    else:
                        self.say("250 OK")

        return Handler


def closed_port():
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
