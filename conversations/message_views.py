"""The campaign's own wording for reminders and replies: a page for its organizers.

Organizers change wording here rather than in the Django admin (which is for superusers only):
every object is loaded through the campaign, so another campaign's templates are a 404.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from canvass.access import ORGANIZERS, campaign_for_user
from conversations.models import DEFAULT_MESSAGE_TEMPLATES, Channel, MessageTemplate, Step


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["step", "channel", "language", "kind", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.campaign = campaign
        self.fields["kind"] = forms.ChoiceField(
            required=False,
            choices=[("", "Every kind")]
            + [(k["code"], k["label"]) for k in campaign.commitment_kinds or []],
            help_text="Only for commitments of this kind, or for every kind.",
        )
        language = self.fields["language"]
        language.required = False
        language.help_text = (
            "People whose recorded language is this one get this wording; blank: the "
            "campaign's language."
        )

    def clean_language(self):
        return self.cleaned_data.get("language") or self.instance.campaign.language

    def clean(self):
        data = super().clean()
        # The campaign is not a field of the form, so the model's unique check skips it.
        clash = MessageTemplate.objects.filter(
            campaign=self.instance.campaign,
            kind=data.get("kind") or "",
            step=data.get("step"),
            channel=data.get("channel"),
            language=data.get("language"),
        ).exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(
                "This campaign already has wording for that step, channel, language and "
                "kind: change that one instead."
            )
        return data


def _template_for(campaign, pk):
    return get_object_or_404(MessageTemplate, pk=pk, campaign=campaign)


@login_required
@require_GET
def message_templates(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    own = list(MessageTemplate.objects.filter(campaign=campaign))
    overridden = {(t.step, t.channel, t.language) for t in own if not t.kind}
    defaults = []
    for code, name in settings.LANGUAGES:
        with translation.override(code):
            defaults += [
                {
                    "step": step,
                    "step_label": Step(step).label,
                    "channel": channel,
                    "language": code,
                    "language_name": name,
                    "subject": gettext(subject) if subject else "",
                    "body": gettext(body),
                }
                for (step, channel), (subject, body) in DEFAULT_MESSAGE_TEMPLATES.items()
                if (step, channel, code) not in overridden
            ]
    return render(
        request,
        "conversations/message_templates.html",
        {
            "campaign": campaign,
            "templates": own,
            "defaults": defaults,
            "can_edit": True,
            "section": "messages",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def message_template_edit(request, slug, pk=None):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    template = _template_for(campaign, pk) if pk is not None else None
    initial = {}
    if template is None:
        step, channel = request.GET.get("step"), request.GET.get("channel")
        language = request.GET.get("language")
        if language not in dict(settings.LANGUAGES):
            language = campaign.language
        default = DEFAULT_MESSAGE_TEMPLATES.get((step, channel))
        initial = {"language": language}
        if default:
            with translation.override(language):
                initial.update(
                    step=step,
                    channel=channel,
                    subject=gettext(default[0]) if default[0] else "",
                    body=gettext(default[1]),
                )
    form = MessageTemplateForm(
        request.POST or None, instance=template, initial=initial, campaign=campaign
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, "Saved. Reminders planned from now on use this wording.")
        return redirect("message_templates", slug=campaign.slug)
    return render(
        request,
        "conversations/message_template_form.html",
        {
            "campaign": campaign,
            "form": form,
            "template": template,
            "channels": Channel,
            "can_edit": True,
            "section": "messages",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def message_template_delete(request, slug, pk):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    _template_for(campaign, pk).delete()
    messages.success(request, "Removed: that step uses the default wording again.")
    return redirect("message_templates", slug=campaign.slug)
