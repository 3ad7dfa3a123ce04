"""Who may do what. Every view loads its objects through these, then acts."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from canvass.models import Campaign, Membership
from canvass.security import TwoFactorRequired

Role = Membership.Role
ORGANIZERS = (Role.ORGANIZER,)
LEADS = (Role.ORGANIZER, Role.FIELD_LEAD)
MEMBERS = (Role.ORGANIZER, Role.FIELD_LEAD, Role.VOLUNTEER)


def campaign_for_user(user, slug, *, roles=ORGANIZERS):
    """The campaign `slug` if `user` holds one of `roles` in it.

    Someone with no membership gets 404 (the campaign's existence is not
    revealed); a member without the role gets 403.
    """
    if not user.is_authenticated:
        raise Http404("No such campaign.")
    campaign = get_object_or_404(Campaign, slug=slug)
    role = (
        Membership.objects.filter(user=user, campaign=campaign)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise Http404("No such campaign.")
    if role not in roles:
        raise PermissionDenied("Your role in this campaign does not allow this.")
    if campaign.require_two_factor and role in LEADS and not _verified(user):
        raise TwoFactorRequired(campaign)
    return campaign


def _verified(user):
    # django-otp's middleware sets is_verified() on the request's user.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
