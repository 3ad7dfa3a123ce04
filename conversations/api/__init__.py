"""The door screen's sync API: the walk list for a phone, and the visits it sends back.

The assignment link's token is the only credential (no password, no session, no CSRF):
every view starts with `assignment_for_token` (access). The contract is in
docs/sync-api.md. By request: the walk list (bundle), the visits (visits), a refused visit
handed to the organizers (held).
"""

from conversations.api.bundle import BundleView, walk_list_bundle
from conversations.api.held import HeldVisitView
from conversations.api.visits import VisitBatchView, VisitItemIn, sync_limits

__all__ = [
    "BundleView",
    "HeldVisitView",
    "VisitBatchView",
    "VisitItemIn",
    "sync_limits",
    "walk_list_bundle",
]
