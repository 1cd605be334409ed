from django.urls import path

from shouhu.web import audit_views as views

app_name = "audit"
urlpatterns = [
    path("", views.access_log, name="log"),
]
