"""python manage.py import_voters FILE --campaign SLUG [--preset NAME] [--map FIELD=COLUMN …]"""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from canvass.models import Campaign
from turf.imports import FIELDS, PRESETS, ImportFileError, voters_import, voters_preview


def map_parse(values):
    """{field: column} from --map FIELD=COLUMN options. A column is a position counted from
    1 (as the state's layout documents number them) or a header name; "35+36" joins
    several columns into one field."""
    mapping = {}
    for value in values:
        field, sep, spec = value.partition("=")
        field, spec = field.strip(), spec.strip()
        if not sep or not field or not spec:
            raise CommandError(f"--map {value}: write it as FIELD=COLUMN, e.g. phone=35+36.")
        if field not in FIELDS:
            raise CommandError(
                f"--map {value}: “{field}” is not a field. Fields: {', '.join(FIELDS)}."
            )
        parts = []
        for part in spec.split("+"):
            part = part.strip()
            if part.isdigit():
                if int(part) < 1:
                    raise CommandError(f"--map {value}: columns are counted from 1.")
                parts.append(int(part) - 1)
            elif part:
                parts.append(part)
        mapping[field] = parts[0] if len(parts) == 1 else parts
    return mapping


class Command(BaseCommand):
    help = (
        "Import a voter file (CSV, tab- or pipe-delimited or fixed width; UTF-8 or Latin-1; "
        "plain, gzipped or zipped) into a campaign."
    )

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
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help=(
                "Map a field by hand (repeat for each field): a column position counted from "
                "1, or a header name; join columns with +, e.g. --map phone=35+36 "
                "--map last_name=LastName. Replaces the preset's mapping."
            ),
        )
        parser.add_argument(
            "--complete",
            action="store_true",
            help="The file is the complete list for its area (the precincts it covers): "
            "the campaign's voters it no longer holds are marked inactive, never deleted.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show the first rows as they would be imported, with the problems found; "
            "write nothing.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw the progress bar."
        )

    def handle(self, *args, file, campaign, preset, no_progress, **options):
        try:
            target = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist:
            raise CommandError(f"There is no campaign with the slug “{campaign}”.") from None
        mapping = map_parse(options["map"]) or None
        if options["dry_run"]:
            return self._dry_run(target, file, preset, mapping)

        bar = tqdm(total=0, unit=" rows", file=sys.stderr, disable=no_progress, dynamic_ncols=True)

        def progress(job):
            if bar.total != job.rows_total:
                bar.total = job.rows_total
            bar.set_description(job.get_phase_display())
            bar.update(job.rows_done - bar.n)

        try:
            job = voters_import(
                campaign=target,
                path=file,
                preset=preset,
                column_mapping=mapping,
                progress=progress,
                complete=options["complete"],
            )
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
        if job.people_inactivated:
            self.stdout.write(
                f"{job.people_inactivated} people marked inactive (removed in the file"
                + (", or no longer in it)." if job.complete else ").")
            )
        if job.rows_left_out:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(job.left_out.items()))
            self.stdout.write(f"Left out (not made into doors): {reasons}.")
        for kind, title, total in [
            ("refused", "Refused rows", job.rows_failed),
            ("warning", "Warnings (imported without the value)", None),
        ]:
            found = [e for e in job.error_report if e.get("kind", "refused") == kind]
            if not found:
                continue
            self.stdout.write(f"{title}:")
            for error in found[:20]:
                where = f"{error['file']} " if error.get("file") else ""
                self.stdout.write(
                    f"  {where}row {error['row']}, {error['column']}: {error['reason']}"
                )
            more = (total if total is not None else len(found)) - min(len(found), 20)
            if more > 0:
                self.stdout.write(f"  …and {more} more (see import {job.pk}).")

    def _dry_run(self, campaign, file, preset, mapping):
        try:
            shape, rows, report = voters_preview(
                campaign=campaign, path=file, preset=preset, column_mapping=mapping
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        delimiter = {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon", "": "fixed width"}
        self.stdout.write(
            f"{file}: {shape.data_rows} rows, {delimiter[shape.delimiter]}, "
            f"{shape.encoding}, {'a header row' if shape.has_header else 'no header'}, "
            f"{shape.columns} columns."
        )
        for row, values in rows:
            name = " ".join(filter(None, [values["first_name"], values["last_name"]]))
            address = " ".join(filter(None, [values["house_number"], values["street"]]))
            if values["unit"]:
                address += f" {values['unit']}"
            shown = ", ".join(
                filter(None, [name, address, values["zip_code"], values["phone"], values["email"]])
            )
            self.stdout.write(f"  row {row}: {shown}")
        for error in sorted(report.errors, key=lambda e: e["row"]):
            kind = "refused" if error["kind"] == "refused" else "imported without it"
            self.stdout.write(
                f"  row {error['row']}, {error['column']}: {error['reason']} ({kind})"
            )
        for reason, count in report.left_out.items():
            self.stdout.write(f"  left out: {count} × {reason}")
        self.stdout.write("Dry run: nothing was written.")
