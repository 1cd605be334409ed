from django.urls import path

from shouhu.volunteers import views

app_name = "volunteers"

urlpatterns = [
    path("volunteers/", views.volunteer_list, name="list"),
    path("volunteers/<int:pk>/", views.volunteer_detail, name="detail"),
    path("volunteers/hours/<int:pk>/decide/", views.hours_decide, name="hours_decide"),
    path("volunteers/certificates/<int:pk>/", views.certificate, name="certificate"),
    path("verify/<str:code>", views.verify, name="verify"),
]
