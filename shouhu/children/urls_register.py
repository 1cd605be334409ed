"""Registration and editing URLs; included into the `children` namespace by urls.py."""

from django.urls import path  # noqa: F401

urlpatterns: list[object] = []
