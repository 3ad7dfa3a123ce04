"""Logins: the two-factor step, and the campaign's login security page for its organizers."""

import base64

import segno
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from canvass.access import ORGANIZERS, campaign_for_user
from canvass.models import AuditEvent, Membership


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="The 6-digit code from your authenticator app",
        error_messages={"invalid": "Type the 6 digits your authenticator app shows now."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe and target else settings.LOGIN_REDIRECT_URL


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Confirm this login with a TOTP code; the first time, add the authenticator app."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    setting_up = device is None
    if setting_up:
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(
                user=request.user, name="Authenticator app", confirmed=False
            )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _why = device.verify_is_allowed()
        if not allowed:
            # django-otp slows down guessing: each wrong code doubles the wait.
            form.add_error("token", "Too many wrong codes: wait a little, then try again.")
        elif device.verify_token(form.cleaned_data["token"].strip()):
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                AuditEvent.objects.create(actor=request.user, action="two_factor.added")
            otp_login(request, device)
            return redirect(_next(request))
        else:
            form.add_error("token", "That code is not right (or has expired): try the next one.")
    context = {"form": form, "setting_up": setting_up, "next": _next(request)}
    if setting_up:
        context["secret"] = base64.b32encode(device.bin_key).decode()
        # segno writes every tag itself; the secret reaches the markup only as modules.
        context["qr_svg"] = mark_safe(
            segno.make(device.config_url, error="m").svg_inline(
                omitsize=True, light="#fff", title="Authenticator app set-up code"
            )
        )
    return render(
        request, "registration/two_factor.html", context, status=400 if form.errors else 200
    )


class TwoFactorSettingForm(forms.Form):
    require_two_factor = forms.BooleanField(
        required=False,
        label="Organizers and field leads confirm every login with an authenticator app",
    )


def _members(campaign):
    members = list(
        Membership.objects.filter(campaign=campaign)
        .select_related("user")
        .order_by("user__username")
    )
    usernames = [m.user.username for m in members]
    failures = dict(
        AccessAttempt.objects.filter(username__in=usernames)
        .values("username")
        .annotate(n=Max("failures_since_start"))
        .values_list("username", "n")
    )
    with_device = set(
        TOTPDevice.objects.filter(
            user__in=[m.user_id for m in members], confirmed=True
        ).values_list("user_id", flat=True)
    )
    for member in members:
        member.failures = failures.get(member.user.username, 0)
        member.locked = member.failures >= settings.AXES_FAILURE_LIMIT
        member.has_two_factor = member.user_id in with_device
    return members


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def campaign_security(request, slug):
    """Who is locked out (and unlocking them), and whether the campaign asks for 2FA."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    form = TwoFactorSettingForm(
        request.POST or None, initial={"require_two_factor": campaign.require_two_factor}
    )
    if request.method == "POST" and form.is_valid():
        wanted = form.cleaned_data["require_two_factor"]
        if wanted != campaign.require_two_factor:
            campaign.require_two_factor = wanted
            campaign.save(update_fields=["require_two_factor"])
            AuditEvent.objects.create(
                campaign=campaign,
                actor=request.user,
                action="campaign.two_factor",
                detail={"required": wanted},
            )
        messages.success(request, "Saved.")
        return redirect("campaign_security", slug=campaign.slug)
    return render(
        request,
        "dashboard/security.html",
        {
            "campaign": campaign,
            "form": form,
            "members": _members(campaign),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            "can_edit": True,
            "section": "security",
        },
    )


@login_required
@require_POST
def membership_unlock(request, slug, pk):
    """Lift a member's login lockout now instead of at the end of the cool-off."""
    campaign = campaign_for_user(request.user, slug, roles=ORGANIZERS)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, campaign=campaign
    )
    axes_reset(username=membership.user.username)
    AuditEvent.objects.create(
        campaign=campaign,
        actor=request.user,
        action="login.unlock",
        target=f"user:{membership.user_id}",
    )
    messages.success(request, f"{membership.user.get_username()} can log in again.")
    return redirect("campaign_security", slug=campaign.slug)
