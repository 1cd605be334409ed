from django.urls import path

from shouhu.cases import views

app_name = "cases"

# Every action on a case has its own address under the case page (issue 11 §2).
urlpatterns = [
    path("cases/", views.case_list, name="list"),
    path("cases/intakes/", views.intakes, name="intakes"),
    path("cases/decisions/", views.decisions, name="decisions"),
    path("cases/coordination/", views.coordination, name="coordination"),
    path("cases/<int:pk>/", views.case_detail, name="detail"),
    path("cases/<int:pk>/move/", views.move, name="move"),
    path("cases/<int:pk>/close/", views.close, name="close"),
    path("cases/<int:pk>/reopen/", views.reopen, name="reopen"),
    path("cases/<int:pk>/approval/", views.approval, name="approval"),
    path("cases/<int:pk>/goals/", views.goal_add, name="goal_add"),
    path("cases/<int:pk>/goals/<int:goal>/actions/", views.action_add, name="action_add"),
    path("cases/<int:pk>/actions/<int:action>/done/", views.action_done, name="action_done"),
    path("cases/<int:pk>/review/", views.review, name="review"),
    path("cases/<int:pk>/services/", views.service_add, name="service_add"),
    path("cases/<int:pk>/tasks/", views.task_add, name="task_add"),
    path("cases/<int:pk>/tasks/<int:task>/done/", views.task_done, name="task_done"),
    path("cases/<int:pk>/notes/", views.note_add, name="note_add"),
    path("cases/<int:pk>/members/", views.member_add, name="member_add"),
    path("cases/<int:pk>/members/<int:person>/remove/", views.member_remove, name="member_remove"),
    path("cases/<int:pk>/conferences/", views.conference_add, name="conference_add"),
    path("cases/<int:pk>/referrals/", views.external_add, name="external_add"),
    path(
        "cases/<int:pk>/referrals/<int:referral>/outcome/",
        views.external_outcome,
        name="external_outcome",
    ),
    path("cases/<int:pk>/transfers/", views.transfer_add, name="transfer_add"),
    path("children/<int:pk>/cases/new/", views.case_new, name="new"),
]
