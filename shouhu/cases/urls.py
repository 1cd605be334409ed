from django.urls import path

from shouhu.cases import views

app_name = "cases"

urlpatterns = [
    path("cases/", views.case_list, name="list"),
    path("cases/intakes/", views.intakes, name="intakes"),
    path("cases/coordination/", views.coordination, name="coordination"),
    path("cases/<int:pk>/", views.case_detail, name="detail"),
    path("cases/<int:pk>/act/", views.case_act, name="act"),
    path("children/<int:pk>/cases/new/", views.case_new, name="new"),
]
