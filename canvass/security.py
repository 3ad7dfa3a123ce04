"""Logins: the client's address for lockouts, and the two-factor step a campaign can require."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


def client_ip(request):
    """The address a login attempt came from, for django-axes.

    Behind the TLS proxy (BEHIND_TLS_PROXY=1) every request comes from the proxy, so the
    address is the last one the proxy appended to X-Forwarded-For (a client can forge the
    ones before it, never that one); otherwise it is the connection's own."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")


class TwoFactorRequired(PermissionDenied):
    """The campaign asks its organizers and field leads for a second factor first."""

    def __init__(self, campaign):
        super().__init__(f"{campaign.name} asks for a code from your authenticator app.")
        self.campaign = campaign


class TwoFactorMiddleware:
    """Sends someone stopped by TwoFactorRequired to the two-factor page, then back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, TwoFactorRequired):
            return None
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('two_factor')}?{query}")


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login that comes with a web request.

    A call to authenticate() without a request (the shell, a management command, the test
    client's login()) is not an attempt from the network: nothing to throttle, so it is
    left to the next backend instead of being refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
