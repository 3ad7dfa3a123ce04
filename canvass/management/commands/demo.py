import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from canvass.demo import demo_build, demo_report_lines


class Command(BaseCommand):
    help = (
        "Build the demo campaign: a synthetic town with turf, volunteers, shifts, "
        "conversations and reminders. A rerun changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet", action="store_true", help="Print only the URL, the logins and the link."
        )

    def handle(self, *args, quiet=False, **options):
        if settings.PRODUCTION:
            # The demo makes a superuser whose password is printed and written in the README.
            raise CommandError(
                "The demo does not run with PRODUCTION=1: it creates a superuser with a "
                "published password. Use a development or staging database."
            )
        started = time.monotonic()
        result = demo_build()
        seconds = time.monotonic() - started
        for line in demo_report_lines(result=result, quiet=quiet, seconds=seconds):
            self.stdout.write(line)
