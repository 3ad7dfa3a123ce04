"""python manage.py import_voters FILE --campaign SLUG [--preset NAME]"""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from canvass.models import Campaign
from turf.imports import PRESETS, voters_import


class Command(BaseCommand):
    help = "Import a voter file (CSV, tab- or pipe-delimited; UTF-8 or Latin-1) into a campaign."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the voter file.")
        parser.add_argument("--campaign", required=True, help="The campaign's slug.")
        parser.add_argument(
            "--preset",
            default="",
            help=(
                "Column layout: "
                + ", ".join(sorted(PRESETS))
                + " or a preset saved in the campaign. Without one, columns are matched by name."
            ),
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar."
        )

    def handle(self, *args, file, campaign, preset, no_progress, **options):
        try:
            target = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist:
            raise CommandError(f"There is no campaign with the slug “{campaign}”.") from None

        bar = tqdm(total=0, unit=" rows", file=sys.stderr, disable=no_progress, dynamic_ncols=True)

        def progress(job):
            if bar.total != job.rows_total:
                bar.total = job.rows_total
            bar.set_description(job.get_phase_display())
            bar.update(job.rows_done - bar.n)

        try:
            job = voters_import(campaign=target, path=file, preset=preset, progress=progress)
        finally:
            bar.close()
        if job.status != job.Status.DONE:
            raise CommandError(job.error)
        self.stdout.write(
            f"Imported {job.rows_imported} of {job.rows_total} rows into {target}: "
            f"{job.people_created} people added, {job.people_updated} updated, "
            f"{job.households_created} new households; {job.rows_failed} rows refused, "
            f"{job.rows_warned} rows imported with a warning."
        )
        for kind, title, total in [
            ("refused", "Refused rows", job.rows_failed),
            ("warning", "Warnings (imported without the value)", None),
        ]:
            found = [e for e in job.error_report if e.get("kind", "refused") == kind]
            if not found:
                continue
            self.stdout.write(f"{title}:")
            for error in found[:20]:
                self.stdout.write(f"  row {error['row']}, {error['column']}: {error['reason']}")
            more = (total if total is not None else len(found)) - min(len(found), 20)
            if more > 0:
                self.stdout.write(f"  …and {more} more (see import {job.pk}).")
