from django.urls import path

from shouhu.aid import views

app_name = "aid"

# Every action has its own address under its object's page (issue 11 §2).
urlpatterns = [
    path("aid/", views.aid_home, name="home"),
    path("aid/sponsors/", views.sponsor_list, name="sponsors"),
    path("aid/sponsors/new/", views.sponsor_new, name="sponsor_new"),
    path("aid/sponsors/<int:pk>/", views.sponsor_detail, name="sponsor"),
    path("aid/sponsors/<int:pk>/pledges/", views.pledge_add, name="pledge_add"),
    path("aid/sponsors/<int:pk>/report/", views.sponsor_report, name="sponsor_report"),
    path("aid/schemes/new/", views.scheme_new, name="scheme_new"),
    path("aid/schemes/<int:pk>/", views.scheme_detail, name="scheme"),
    path("aid/applications/<int:pk>/", views.application_detail, name="application"),
    path("aid/applications/<int:pk>/decision/", views.decide, name="decide"),
    path("aid/applications/<int:pk>/payments/", views.payment_add, name="payment_add"),
    path("aid/applications/<int:pk>/followups/", views.followup_add, name="followup_add"),
    path("aid/followups/<int:pk>/story-approval/", views.story_approve, name="story_approve"),
    path("children/<int:pk>/aid/apply/", views.application_new, name="apply"),
]
