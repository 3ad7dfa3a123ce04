"""The door script (the rating question and the story themes) in other languages."""

from django.core.exceptions import ValidationError
from django.db import transaction

from canvass.models import AuditEvent, Campaign, validate_script_translations


def campaign_script_translate(*, campaign, language, rating_question, story_themes, actor=None):
    """Store the campaign's question and themes in `language`; `story_themes` maps each of
    the campaign's themes to its words there. Blank entries are dropped (the door shows
    the campaign's own words for them). Raises ValidationError and changes nothing when
    a theme is not the campaign's or a text is too long."""
    unknown = [theme for theme in story_themes if theme not in campaign.story_themes]
    if unknown:
        raise ValidationError(f"Not one of this campaign's themes: {', '.join(unknown)}.")
    script = {}
    if rating_question.strip():
        script["rating_question"] = rating_question.strip()
    themes = {theme: words.strip() for theme, words in story_themes.items() if words.strip()}
    if themes:
        script["story_themes"] = themes
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        translations = {**locked.script_translations, language: script}
        if not script:
            translations.pop(language)
        validate_script_translations(translations)
        locked.script_translations = translations
        locked.save(update_fields=["script_translations"])
        AuditEvent.objects.create(
            campaign=locked,
            actor=actor,
            action="campaign.script_translate",
            detail={"language": language},
        )
    campaign.script_translations = translations
    return campaign
