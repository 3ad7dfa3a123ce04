"""The personal link to one signup: see, confirm, change or cancel it with no login.

Only the SHA-256 of a link's token is stored, as for assignment links.
"""

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from canvass.models import ShiftSignup, hash_link_token


def _link_token(nonce):
    message = f"porchlight:shift-signup-link:{nonce}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def link_new(signup):
    """Give `signup` a fresh personal link (not saved); returns its token.

    Only the token's hash is stored, as for assignment links. The token is derived
    from a random nonce with the SECRET_KEY rather than drawn at random, so that a
    reminder written later (when the shift moves) can carry the same link again.
    """
    signup.link_nonce = secrets.token_hex(16)
    token = _link_token(signup.link_nonce)
    signup.token_hash = hash_link_token(token)
    signup.link_revoked_at = None
    return token


def signup_link_token(signup):
    """The token of `signup`'s current personal link, or None when it has none."""
    if not signup.link_nonce or signup.link_revoked_at is not None:
        return None
    return _link_token(signup.link_nonce)


def signup_link(token):
    return f"{settings.SITE_URL}{reverse('signup_manage', args=[token])}"


@transaction.atomic
def signup_link_reissue(*, signup):
    """A new personal link for `signup`; the old one stops working. Returns the token."""
    signup = ShiftSignup.objects.select_for_update().get(pk=signup.pk)
    token = link_new(signup)
    signup.save(update_fields=["link_nonce", "token_hash", "link_revoked_at", "updated_at"])
    return token


def signup_link_revoke(*, signup, now=None):
    """Turn the personal link off (it was sent to the wrong person). Returns whether it was on."""
    return bool(
        ShiftSignup.objects.filter(pk=signup.pk, link_revoked_at__isnull=True).update(
            link_revoked_at=now or timezone.now()
        )
    )
