"""Exports: the files field leads take away (call lists, VAN-style results, conversations,
rosters), the column layouts they saved, and each campaign's VAN result codes."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from canvass.models import Campaign

# VAN's common contact result codes; committees differ, so each campaign may change them.
DEFAULT_RESULT_CODES = {
    "not_home": "1",
    "refused": "2",
    "inaccessible": "3",
    "moved": "5",
    "come_back": "1",
    "conversation": "14",
}


class ExportJob(models.Model):
    """One export someone asked for: what, with which filters and columns, and how it went.

    The file is written to storage only once its row count has been checked against the
    query; a job that failed has an error and no file."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", _("Excel (XLSX)")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="export_jobs")
    kind = models.CharField(max_length=40)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.CSV)
    filters = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    include_sensitive = models.BooleanField(
        default=False, help_text=_("Story text of notes flagged sensitive (organizers only).")
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # {reason code: count} of the rows the filters matched but the export left out.
    left_out = models.JSONField(default=dict, blank=True)
    withheld = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to="exports/", blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"Export {self.pk} {self.kind} ({self.get_status_display()})"

    @property
    def left_out_total(self):
        return sum(self.left_out.values())


class ExportLayout(models.Model):
    """A named choice and order of columns for one kind of export, kept for next time."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="export_layouts")
    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=60)
    columns = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "kind", "name"], name="exportlayout_unique_name"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.kind})"


class ResultCode(models.Model):
    """The code a campaign's VAN committee uses for one door outcome."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="result_codes")
    outcome = models.CharField(max_length=20)
    code = models.CharField(max_length=20)

    class Meta:
        ordering = ["campaign", "outcome"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "outcome"], name="resultcode_unique")
        ]

    def __str__(self):
        return f"{self.outcome} → {self.code}"


def result_codes(campaign):
    """{visit outcome: VAN result code} for `campaign`: its own, else VAN's defaults."""
    codes = dict(DEFAULT_RESULT_CODES)
    codes.update(
        ResultCode.objects.filter(campaign=campaign).values_list("outcome", "code").order_by()
    )
    return codes
