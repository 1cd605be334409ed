from django.urls import path  # noqa: F401

from shouhu.children.urls_register import urlpatterns as register_patterns

app_name = "children"
urlpatterns: list[object] = [*register_patterns]
