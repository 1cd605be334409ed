from django.urls import path

from shouhu.screening import views, views_visits

app_name = "screening"

urlpatterns = [
    path("children/<int:pk>/screenings/", views.child_screenings, name="child"),
    path("children/<int:pk>/screenings/new/", views.screening_new, name="new"),
    path("children/<int:pk>/visits/", views_visits.visit_list, name="visits"),
    path("children/<int:pk>/visits/new/", views_visits.visit_new, name="visit_new"),
    path("screenings/<int:pk>/", views.screening_detail, name="detail"),
    path("screenings/hand-back/", views.hand_back, name="handback"),
    path("screenings/groups/", views.group_list, name="groups"),
    path("screenings/groups/<int:pk>/", views.group_detail, name="group"),
    path("alerts/", views.alert_list, name="alerts"),
    path("worklist/", views.worklist, name="worklist"),
    path("children/<int:pk>/reports/new/", views.report_new, name="report_new"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:pk>/action/", views.alert_action, name="alert_action"),
    path("alerts/<int:pk>/close/", views.alert_close, name="alert_close"),
]
