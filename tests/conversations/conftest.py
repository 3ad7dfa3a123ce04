from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conversations.models import Visit
from tests.factories import PersonFactory, StoryNoteFactory, VisitFactory
from turf.models import TurfStop


@pytest.fixture
def phone():
    """A phone calling the sync API: no session, no cookies, and CSRF checks on as in a
    real browser. (Browser tests name their Playwright page `phone` too, which wins.)"""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def door(assignment, campaign, organizer):
    """The persona assignment, with people at its doors and one earlier conversation."""
    assignment, token = assignment
    stops = list(TurfStop.objects.filter(turf=assignment.turf).select_related("household"))
    households = [stop.household for stop in sorted(stops, key=lambda s: s.position)]
    rosa = PersonFactory(
        campaign=campaign, household=households[0], first_name="Rosa", last_name="Diaz"
    )
    PersonFactory(campaign=campaign, household=households[1], first_name="Sam", last_name="Ortiz")
    earlier = VisitFactory(
        campaign=campaign,
        household=households[0],
        happened_at=timezone.now() - timedelta(days=10),
    )
    StoryNoteFactory(visit=earlier, themes=["Housing"])
    secret = VisitFactory(
        campaign=campaign,
        household=households[1],
        happened_at=timezone.now() - timedelta(days=9),
    )
    StoryNoteFactory(visit=secret, themes=["Faith"], sensitive=True, story="Private words")
    return {
        "assignment": assignment,
        "token": token,
        "households": households,
        "rosa": rosa,
        "before": Visit.objects.count(),
    }
