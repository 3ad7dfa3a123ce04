"""The API against its own OpenAPI schema (/api/schema/), fuzzed with schemathesis: every
operation, with inputs the schema allows and inputs it does not, and never a server error.

The link-holder's operations are called with a real volunteer link (a made-up token only
ever meets the 404 the authorization walk already checks), so the fuzzing reaches the
validation of walk lists, visits and held visits. The examples per operation are few
enough for the normal suite (well under a minute).

The check is "no server error". Schemathesis's stricter checks are not asked for: a batch
answers each visit inside a 200 (a visit missing its outcome is refused in its own
answer, not with a 400 for the batch), by design of the sync protocol.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

pytestmark = [pytest.mark.django_db]

MAX_EXAMPLES = 20


# The app itself, called in this process through WSGI: the test's database is its own.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _one_connection():
    """Each request runs inside the test's transaction, as Django's test client runs it:
    the handler must not close the connection when a request starts or ends."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def link(assignment, settings):
    # The per-link limit is a real limit; these requests come quicker than any phone's.
    settings.SYNC_REQUESTS_PER_MINUTE = 100_000
    _assignment, token = assignment
    return token


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_input_the_schema_describes_or_not_gives_a_server_error(case, link):
    if "token" in (case.path_parameters or {}):
        case.path_parameters["token"] = link
    case.call_and_validate(checks=[not_a_server_error])
