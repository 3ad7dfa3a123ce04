"""python manage.py export KIND --campaign SLUG --format csv|xlsx [--filter NAME=VALUE …] -o FILE"""

import os
import shutil

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from canvass.models import Campaign
from exports.kinds import KINDS
from exports.models import ExportJob, ExportLayout
from exports.services import export_create, export_run


class Command(BaseCommand):
    help = (
        "Export a campaign's data to CSV or XLSX, with the same checks, counts and audit "
        "as the export pages. Kinds: " + ", ".join(KINDS) + "."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", help="What to export: " + ", ".join(KINDS) + ".")
        parser.add_argument("--campaign", required=True, help="The campaign's slug.")
        parser.add_argument("--format", default="csv", choices=["csv", "xlsx"])
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help='A filter, e.g. turf="Maple blocks", date_from=2026-11-01, status=any '
            "(repeat for more).",
        )
        parser.add_argument(
            "--columns", default="", help="Column keys in the order wanted, comma-separated."
        )
        parser.add_argument("--layout", default="", help="A saved layout's name (its columns).")
        parser.add_argument(
            "--user", default="", help="Export as this organizer or field lead (for the audit)."
        )
        parser.add_argument(
            "--include-sensitive",
            action="store_true",
            help="Conversations: include the story text of notes flagged sensitive (audited).",
        )
        parser.add_argument("-o", "--output", required=True, help="The file to write.")

    def handle(self, *args, kind, campaign, format, filter, columns, layout, user, **options):
        output = options["output"]
        try:
            target = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist:
            raise CommandError(f"There is no campaign with the slug “{campaign}”.") from None
        filters = {}
        for item in filter:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"“{item}” is not a filter: write it as NAME=VALUE.")
            filters[name.strip()] = value.strip()
        chosen = [key.strip() for key in columns.split(",") if key.strip()]
        if layout:
            saved = ExportLayout.objects.filter(campaign=target, kind=kind, name=layout).first()
            if saved is None:
                raise CommandError(f"No layout named “{layout}” for {kind} in {target}.")
            chosen = saved.columns
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"There is no user “{user}”.")
        try:
            job = export_create(
                campaign=target,
                kind=kind,
                fmt=format,
                filters=filters,
                columns=chosen,
                user=actor,
                include_sensitive=options["include_sensitive"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from None
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
        job = export_run(job=job)
        if job.status != ExportJob.Status.DONE:
            raise CommandError(job.error)
        partial = output + ".partial"
        with job.file.open("rb") as source, open(partial, "wb") as out:
            shutil.copyfileobj(source, out)
        os.replace(partial, output)
        labels = KINDS[kind].reason_labels(target, job.filters)
        self.stdout.write(f"Wrote {job.rows_done} rows to {output} (export {job.pk}).")
        left_out = {code: count for code, count in job.left_out.items() if count}
        if left_out:
            self.stdout.write(f"Left out {sum(left_out.values())}:")
            for code, count in left_out.items():
                self.stdout.write(f"  {count} {labels.get(code, code)}")
        for what, count in job.withheld.items():
            if count:
                self.stdout.write(f"  {count} {what}")
