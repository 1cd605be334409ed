"""Signing in and out. Lockout (django-axes) and idle expiry are configured in settings."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.utils.translation import gettext_lazy as _


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": _("Log in")}


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot sign someone out behind their back."""
