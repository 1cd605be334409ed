from django.urls import path

from shouhu.programmes import views, views_projects

app_name = "programmes"

urlpatterns = [
    path("programmes/", views.programme_list, name="list"),
    path("programmes/new/", views.programme_new, name="new"),
    path("programmes/<int:pk>/", views.programme_detail, name="detail"),
    path("programmes/<int:pk>/sessions/", views.session_new, name="session_new"),
    path("programmes/<int:pk>/enrolments/", views.enrol, name="enrol"),
    path("programmes/sessions/<int:pk>/cancel/", views.session_cancel, name="cancel"),
    path("programmes/designs/", views_projects.designs, name="designs"),
    path("programmes/projects/<int:pk>/", views_projects.project_detail, name="project"),
    path("programmes/projects/<int:pk>/report/", views_projects.monthly_report, name="report"),
    path(
        "programmes/projects/<int:pk>/report.xlsx",
        views_projects.monthly_report_xlsx,
        name="report_xlsx",
    ),
    path("programmes/projects/<int:pk>/stages/", views_projects.milestone_new, name="stage_new"),
    path(
        "programmes/stages/<int:pk>/accept/", views_projects.milestone_accept, name="stage_accept"
    ),
    path("programmes/sessions/<int:pk>/roll-call/", views.roll_call, name="roll_call"),
    path("programmes/sessions/<int:pk>/walk-in/", views.walk_in, name="walk_in"),
    path("programmes/sessions/<int:pk>/sign-in/", views.sign_in_sheet, name="sign_in"),
    path("children/<int:pk>/counselling/", views.counselling_page, name="counselling"),
]
