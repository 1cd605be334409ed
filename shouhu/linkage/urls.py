from django.urls import path

from shouhu.linkage import views

app_name = "linkage"

urlpatterns = [
    path("linkage/", views.queue, name="queue"),
    path("linkage/run/", views.run, name="run"),
    path("linkage/candidates/<int:pk>/", views.candidate, name="candidate"),
    path(
        "linkage/links/<int:candidate_id>/share/<int:child_id>/",
        views.share_new,
        name="share_new",
    ),
    path("linkage/shares/<int:pk>/end/", views.share_end, name="share_end"),
]
