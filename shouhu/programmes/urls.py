from django.urls import path

from shouhu.programmes import views

app_name = "programmes"

urlpatterns = [
    path("programmes/", views.programme_list, name="list"),
    path("programmes/new/", views.programme_new, name="new"),
    path("programmes/<int:pk>/", views.programme_detail, name="detail"),
    path("programmes/<int:pk>/sessions/", views.session_new, name="session_new"),
    path("programmes/<int:pk>/enrolments/", views.enrol, name="enrol"),
    path("programmes/sessions/<int:pk>/cancel/", views.session_cancel, name="cancel"),
    path("programmes/projects/<int:pk>/", views.project_detail, name="project"),
    path("programmes/sessions/<int:pk>/roll-call/", views.roll_call, name="roll_call"),
    path("programmes/sessions/<int:pk>/sign-in/", views.sign_in_sheet, name="sign_in"),
    path("children/<int:pk>/counselling/", views.counselling_page, name="counselling"),
]
