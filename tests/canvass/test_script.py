"""The door script in other languages: set by an organizer, delivered with the walk list."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from canvass.models import AuditEvent
from canvass.services.script import campaign_script_translate

pytestmark = pytest.mark.django_db


def test_an_organizer_sets_the_spanish_question_and_themes(client, campaign, organizer, assignment):
    page = reverse("campaign_script", args=[campaign.slug])
    client.force_login(organizer)
    shown = client.get(page).content.decode()
    assert campaign.rating_question in shown and "Housing" in shown
    themes = {f"es-theme_{n}": "" for n in range(len(campaign.story_themes))}
    themes[f"es-theme_{campaign.story_themes.index('Housing')}"] = "Vivienda"
    answer = client.post(
        page,
        {"language": "es", "es-rating_question": "Del 0 al 10, ¿qué opinas?", **themes},
    )
    assert answer.status_code == 302
    campaign.refresh_from_db()
    assert campaign.script_translations == {
        "es": {
            "rating_question": "Del 0 al 10, ¿qué opinas?",
            "story_themes": {"Housing": "Vivienda"},
        }
    }
    assert AuditEvent.objects.filter(action="campaign.script_translate", actor=organizer).exists()

    _, token = assignment
    bundle = client.get(reverse("sync_bundle", args=[token])).json()
    assert bundle["campaign"]["script_translations"]["es"]["story_themes"] == {
        "Housing": "Vivienda"
    }
    # The campaign's own words stay what a visit sends.
    assert "Housing" in bundle["campaign"]["story_themes"]


def test_only_organizers_reach_the_script_page(client, campaign, field_lead, outsider):
    page = reverse("campaign_script", args=[campaign.slug])
    client.force_login(outsider)
    assert client.get(page).status_code == 404
    client.force_login(field_lead)
    assert client.get(page).status_code == 403


def test_a_theme_not_the_campaigns_changes_nothing(campaign):
    with pytest.raises(ValidationError, match="Not one of this campaign's themes: Weather"):
        campaign_script_translate(
            campaign=campaign,
            language="es",
            rating_question="¿Qué opinas?",
            story_themes={"Weather": "Clima"},
        )
    campaign.refresh_from_db()
    assert campaign.script_translations == {}
    with pytest.raises(ValidationError, match="at most 300"):
        campaign_script_translate(
            campaign=campaign, language="es", rating_question="x" * 301, story_themes={}
        )
    campaign.refresh_from_db()
    assert campaign.script_translations == {}
