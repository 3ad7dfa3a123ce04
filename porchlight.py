#!/usr/bin/env python3
"""Set up and run Porchlight on this machine, or run its tests.

    python3 porchlight.py start   # venv, dependencies, migrations, demo data, web + reminders
    python3 porchlight.py test    # the whole test suite (PostgreSQL and Redis when reachable)

Needs nothing but Python 3.11 or newer: everything else goes into .venv/.
"""

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def say(message):
    print(f"porchlight: {message}", flush=True)


def run(*args, **kwargs):
    kwargs.setdefault("cwd", ROOT)
    return subprocess.run([str(a) for a in args], check=True, **kwargs)


def ensure_venv(extras=""):
    """Create .venv and install the declared dependencies, once per change of pyproject.toml."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file may be run by an older python3
        found = ".".join(map(str, sys.version_info[:2]))
        sys.exit(f"porchlight: Python 3.11 or newer is needed (this is {found}).")
    if not PYTHON.exists():
        say("creating the virtual environment in .venv/ …")
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing dependencies ({spec}) …")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", spec)
    stamp.write_text(digest)


def reachable(url, default_port):
    parsed = urlparse(url)
    address = (parsed.hostname or "127.0.0.1", parsed.port or default_port)
    try:
        with socket.create_connection(address, 2):
            return True
    except OSError:
        return False


def manage(*args, env=None):
    run(PYTHON, "manage.py", *args, env=env)


def start(options):
    ensure_venv()
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("SITE_URL", f"http://127.0.0.1:{options.port}")
    (ROOT / "var").mkdir(exist_ok=True)
    say("applying migrations …")
    manage("migrate", "--noinput", "-v0", env=env)
    say("building the demo campaign (a rerun changes nothing) …")
    demo = subprocess.run(
        [str(PYTHON), "manage.py", "demo"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if demo.returncode:
        sys.exit(f"porchlight: building the demo failed:\n{demo.stdout}{demo.stderr}")
    print(demo.stdout, flush=True)
    broker = env.get("REDIS_URL") or "Celery's filesystem transport in var/celery/ (no Redis)"
    say(f"reminders: a Celery worker with beat, broker: {broker}")
    say(f"development outbox: {ROOT / 'var' / 'outbox'} (email.log, sms.log) and this console")
    processes = [
        subprocess.Popen(
            [
                str(PYTHON),
                "-m",
                "celery",
                "-A",
                "canvass",
                "worker",
                "--beat",
                "--pool=solo",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{options.port}", "--noreload"],
            cwd=ROOT,
            env=env,
        ),
    ]
    time.sleep(3)
    # Repeated after the servers' start-up chatter, so the logins are the last thing on screen.
    print(demo.stdout, flush=True)
    say(f"Porchlight is running at {env['SITE_URL']}/  (admin: {env['SITE_URL']}/admin/)")
    say("press Ctrl-C to stop")

    def stop(*_):
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(1)
        say("a process stopped; shutting down the rest")
    except KeyboardInterrupt:
        pass
    stop()


def test(options):
    ensure_venv("test")
    env = dict(os.environ)
    ci = env.get("CI", "").lower() in ("1", "true", "yes")
    database_url = env.get("DATABASE_URL") or DEFAULT_POSTGRES
    redis_url = env.get("REDIS_URL") or DEFAULT_REDIS
    if database_url.startswith("postgres") and reachable(database_url, 5432):
        env["DATABASE_URL"] = database_url
        say(f"database: PostgreSQL at {urlparse(database_url).hostname}")
    elif ci:
        sys.exit(f"porchlight: CI needs PostgreSQL, and {database_url} is not reachable.")
    else:
        env.pop("DATABASE_URL", None)
        say(
            "database: SQLite — PostgreSQL is not reachable, so the tests marked 'postgres' "
            "are skipped (listed with their reason at the end)"
        )
    if reachable(redis_url, 6379):
        env["REDIS_URL"] = redis_url
        say(f"Redis: {redis_url}")
    elif ci:
        sys.exit(f"porchlight: CI needs Redis, and {redis_url} is not reachable.")
    else:
        env.pop("REDIS_URL", None)
        say("Redis: not reachable — the tests marked 'redis' (a real Celery worker) are skipped")
    # The tests choose their own settings; the developer's shell must not leak in.
    for name in ("DEBUG", "CELERY_TASK_ALWAYS_EAGER", "PRODUCTION", "SECRET_KEY"):
        env.pop(name, None)
    result = subprocess.run([str(PYTHON), "-m", "pytest", *options.pytest_args], cwd=ROOT, env=env)
    if result.returncode == 5:
        say("pytest collected no tests — that is a failure, not a pass")
        sys.exit(1)
    sys.exit(result.returncode)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start", help="set up and run the demo on SQLite")
    start_parser.add_argument("--port", type=int, default=8000)
    start_parser.set_defaults(func=start)
    test_parser = commands.add_parser("test", help="run the test suite")
    test_parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    test_parser.set_defaults(func=test)
    if sys.argv[1:2] == ["test"]:
        # Everything after `test` belongs to pytest, as it is: `test -x -q tests/turf`.
        options = parser.parse_args(["test"])
        options.pytest_args = sys.argv[2:]
    else:
        options = parser.parse_args()
    try:
        options.func(options)
    except subprocess.CalledProcessError as exc:
        sys.exit(f"porchlight: a set-up step failed ({' '.join(map(str, exc.cmd))}); see above.")


if __name__ == "__main__":
    main()
