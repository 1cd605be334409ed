from django.urls import path

from shouhu.reunion import views

app_name = "reunion"

urlpatterns = [
    path("reunion/", views.site_list, name="sites"),
    path("reunion/plan/", views.plan, name="plan"),
    path("reunion/sites/new/", views.site_new, name="site_new"),
    path("reunion/sites/<int:pk>/", views.site_week, name="site"),
    path("reunion/sites/<int:pk>/manage/", views.site_manage, name="site_manage"),
    path("reunion/sites/<int:pk>/devices/", views.device_add, name="device_add"),
    path("reunion/sites/<int:pk>/devices/<int:device>/", views.device_update, name="device_update"),
    path("reunion/sites/<int:pk>/facilitators/", views.facilitator_set, name="facilitator_add"),
    path(
        "reunion/sites/<int:pk>/facilitators/<int:facilitator>/",
        views.facilitator_set,
        name="facilitator_set",
    ),
    path(
        "reunion/sites/<int:pk>/facilitators/<int:facilitator>/remove/",
        views.facilitator_remove,
        name="facilitator_remove",
    ),
    path("reunion/sites/<int:pk>/absent/", views.facilitator_absent, name="absent"),
    path("reunion/sessions/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("reunion/sessions/<int:pk>/cancel/", views.session_cancel, name="cancel"),
    path("reunion/tickets/", views.tickets, name="tickets"),
    path("reunion/tickets/<int:pk>/take/", views.ticket_take, name="ticket_take"),
    path("reunion/tickets/<int:pk>/resolve/", views.ticket_resolve, name="ticket_resolve"),
    path("reunion/tickets/<int:pk>/close/", views.ticket_close, name="ticket_close"),
    path("reunion/parents/<int:pk>/", views.parent_windows, name="parent_windows"),
    path("children/<int:pk>/contacts/", views.contacts, name="contacts"),
    path("children/<int:pk>/reunion/", views.participant, name="participant"),
]
