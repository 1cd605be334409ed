from django.urls import path  # noqa: F401

app_name = "children_io"
urlpatterns: list[object] = []
