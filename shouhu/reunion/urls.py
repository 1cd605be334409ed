from django.urls import path

from shouhu.reunion import views

app_name = "reunion"

urlpatterns = [
    path("reunion/", views.site_list, name="sites"),
    path("reunion/plan/", views.plan, name="plan"),
    path("reunion/sites/<int:pk>/", views.site_week, name="site"),
    path("reunion/sessions/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("reunion/sessions/<int:pk>/cancel/", views.session_cancel, name="cancel"),
    path("reunion/tickets/", views.tickets, name="tickets"),
    path("children/<int:pk>/contacts/", views.contacts, name="contacts"),
]
