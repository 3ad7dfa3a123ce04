"""`manage.py cut_turf --campaign SLUG --doors N`: cut the households on no turf into turfs.

With universe filters (`--party UNA --age-max 39 --precinct 12`, `--where COLUMN=VALUE`),
only the doors where an active voter matches them all.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from canvass.models import Campaign
from turf.cutting import size_spread, turf_cut
from turf.cutting.universe import Universe, parse_where, universe_doors, universe_households
from turf.models import Turf


class Command(BaseCommand):
    help = (
        "Cut the households of a campaign that are on no turf into compact turfs of about "
        "N doors each (every turf within ±15% of N), in walk order."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, metavar="SLUG")
        parser.add_argument("--doors", required=True, type=int, metavar="N", help="doors per turf")
        parser.add_argument("--precinct", metavar="P", help="cut only this precinct")
        parser.add_argument("--prefix", default="Turf", help="turf names: PREFIX 001, 002…")
        universe = parser.add_argument_group(
            "universe", "cut only the doors where an active voter matches every filter"
        )
        universe.add_argument("--party", action="append", default=[], help="e.g. UNA (repeatable)")
        universe.add_argument("--age-min", type=int, metavar="YEARS")
        universe.add_argument("--age-max", type=int, metavar="YEARS", help="--age-max 39: under 40")
        universe.add_argument("--gender", default="", help="e.g. F")
        universe.add_argument("--voter-status", default="", help="e.g. active")
        universe.add_argument(
            "--where",
            action="append",
            default=[],
            metavar="COLUMN=VALUE",
            help="any voter-file column, e.g. cong_dist_abbrv=4 (values: A,B; repeatable)",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="first delete open, never-assigned turfs inside what is cut, and cut again",
        )

    def handle(self, *args, campaign, doors, precinct, prefix, replace, **options):
        try:
            found = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist:
            raise CommandError(f"No campaign with slug “{campaign}”.") from None
        try:
            picked = Universe(
                parties=[p.strip() for value in options["party"] for p in value.split(",")],
                age_min=options["age_min"],
                age_max=options["age_max"],
                gender=options["gender"].strip(),
                precinct=(precinct or "").strip(),
                voter_status=options["voter_status"].strip(),
                where=parse_where(options["where"]),
            )
            households = None
            if picked.people_filtered:
                total, uncut = universe_doors(found, picked)
                self.stdout.write(
                    f"Universe ({picked.describe()}): {total} doors, {uncut} not on a turf yet"
                )
                households = universe_households(found, picked)
            turfs = turf_cut(
                campaign=found,
                doors=doors,
                precinct=precinct,
                households=households,
                name_prefix=prefix,
                replace_open=replace,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

        counted = Turf.objects.filter(pk__in=[t.pk for t in turfs]).annotate(doors=Count("stops"))
        sizes = dict(counted.values_list("pk", "doors"))
        width = max(len(turf.name) for turf in turfs)
        for turf in turfs:
            self.stdout.write(f"{turf.name:<{width}}  {sizes[turf.pk]:>6} doors")
        self.stdout.write(self.style.SUCCESS(str(size_spread(list(sizes.values()), doors))))
