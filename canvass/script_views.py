"""The organizer's door script page: the rating question and story themes volunteers
see, and their wording in each other language of the door screen."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from canvass.access import ORGANIZERS, campaign_for_user
from canvass.services.script import campaign_script_translate


class ScriptTranslationForm(forms.Form):
    """One field for the question, one per theme, in one language."""

    def __init__(self, *args, campaign, language, **kwargs):
        super().__init__(*args, **kwargs)
        script = campaign.script_translations.get(language, {})
        self.themes = list(campaign.story_themes)
        self.fields["rating_question"] = forms.CharField(
            label=campaign.rating_question,
            max_length=300,
            required=False,
            initial=script.get("rating_question", ""),
        )
        for n, theme in enumerate(self.themes):
            self.fields[f"theme_{n}"] = forms.CharField(
                label=theme,
                max_length=100,
                required=False,
                initial=script.get("story_themes", {}).get(theme, ""),
            )

    def question_field(self):
        return self["rating_question"]

    def theme_fields(self):
        return [self[f"theme_{n}"] for n in range(len(self.themes))]

    def story_themes(self):
        return {theme: self.cleaned_data[f"theme_{n}"] for n, theme in enumerate(self.themes)}


def _other_languages():
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


@login_required
@require_http_methods(["GET", "POST"])
def campaign_script(request, slug):
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    forms_by_language = []
    for code, name in _other_languages():
        posted = request.method == "POST" and request.POST.get("language") == code
        form = ScriptTranslationForm(
            request.POST if posted else None, campaign=campaign, language=code, prefix=code
        )
        if posted and form.is_valid():
            try:
                campaign_script_translate(
                    campaign=campaign,
                    language=code,
                    rating_question=form.cleaned_data["rating_question"],
                    story_themes=form.story_themes(),
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Saved the door script in {name}.")
                return redirect("campaign_script", slug=campaign.slug)
        forms_by_language.append((code, name, form))
    return render(
        request,
        "dashboard/script.html",
        {
            "campaign": campaign,
            "forms": forms_by_language,
            "can_edit": True,
            "section": "script",
        },
    )
