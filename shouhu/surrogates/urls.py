from django.urls import path

from shouhu.surrogates import views

app_name = "surrogates"

urlpatterns = [
    path("surrogates/", views.arrangement_list, name="list"),
    path("surrogates/new/<int:child_id>/", views.arrangement_new, name="new"),
    path("surrogates/<int:pk>/", views.arrangement_detail, name="detail"),
    path("surrogates/<int:pk>/end/", views.arrangement_end, name="end"),
]
