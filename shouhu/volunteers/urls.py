from django.urls import path, re_path

from shouhu.volunteers import views

app_name = "volunteers"

urlpatterns = [
    path("volunteers/", views.volunteer_list, name="list"),
    path("volunteers/new/", views.volunteer_register, name="register"),
    path("volunteers/<int:pk>/", views.volunteer_detail, name="detail"),
    path("volunteers/match/<int:child_id>/", views.match, name="match"),
    path("volunteers/hours/<int:pk>/decide/", views.hours_decide, name="hours_decide"),
    path("volunteers/certificates/<int:pk>/", views.certificate, name="certificate"),
    # Printed on the certificate as /verify/<code>; a trailing slash is forgiven.
    re_path(r"^verify/(?P<code>[A-Za-z0-9]{1,64})/?$", views.verify, name="verify"),
]
