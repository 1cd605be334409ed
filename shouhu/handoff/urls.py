from django.urls import path

from shouhu.handoff import views

app_name = "handoff"

urlpatterns = [
    path("handoff/", views.handoff_home, name="home"),
    path("handoff/import/", views.import_package, name="import"),
    path("handoff/incoming/<int:pk>/", views.incoming_detail, name="incoming"),
    path("handoff/incoming/<int:pk>/register/", views.incoming_register, name="register"),
    path("handoff/incoming/<int:pk>/attach/", views.incoming_attach, name="attach"),
    path("children/<int:pk>/handoff/", views.export_package, name="export"),
]
