"""Bad JSON to the map's turf editing endpoints: a clear 400, nothing changed."""

import pytest
from django.urls import reverse

from canvass.json_input import JSONTooDeep, json_parse
from tests.factories import TurfFactory
from turf.models import Turf, TurfStop

pytestmark = pytest.mark.django_db

ENDPOINTS = ["turf_edit_select", "turf_edit_create", "turf_edit_move", "turf_edit_merge"]


@pytest.mark.parametrize("depth", [100_000, 600, 40])
@pytest.mark.parametrize("name", [*ENDPOINTS, "turf_edit_split"])
def test_deeply_nested_json_to_each_edit_endpoint_is_a_clear_400(
    client, campaign, organizer, name, depth
):
    turf = TurfFactory(campaign=campaign, name="Maple", doors=2)
    stops = TurfStop.objects.count()
    client.force_login(organizer)
    args = [campaign.slug, turf.pk] if name == "turf_edit_split" else [campaign.slug]
    body = '{"polygon": ' + "[" * depth + "]" * depth + ', "name": "Deep"}'

    response = client.post(reverse(name, args=args), body, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]
    assert list(Turf.objects.values_list("name", flat=True)) == ["Maple"]
    assert TurfStop.objects.count() == stops


def test_the_bound_is_the_same_for_every_json_body():
    assert json_parse('{"a": [[[1]]]}') == {"a": [[[1]]]}
    with pytest.raises(JSONTooDeep):
        json_parse("[" * 33 + "]" * 33)
    with pytest.raises(JSONTooDeep):
        json_parse("[" * 100_000 + "]" * 100_000)
