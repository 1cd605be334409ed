"""Registration and editing URLs; included into the `children` namespace by urls.py."""

from django.urls import path

from shouhu.children import views_register

urlpatterns = [
    path("children/new/", views_register.register, name="register"),
    path("children/duplicates/", views_register.duplicates, name="duplicates"),
    path("children/places/", views_register.place_options, name="place_options"),
    path("children/<int:pk>/edit/", views_register.edit, name="edit"),
    path(
        "children/<int:pk>/members/<int:member_pk>/edit/",
        views_register.member_edit,
        name="member_edit",
    ),
    path("children/<int:pk>/members/new/", views_register.member_new, name="member_new"),
    path("children/<int:pk>/household/edit/", views_register.household_edit, name="household_edit"),
    path("children/<int:pk>/care/edit/", views_register.delegated_care_edit, name="care_edit"),
    path("children/<int:pk>/consents/new/", views_register.consent_new, name="consent_new"),
    path(
        "children/<int:pk>/consents/<int:consent_pk>/withdraw/",
        views_register.consent_withdraw,
        name="consent_withdraw",
    ),
    path("children/<int:pk>/legal-bases/new/", views_register.basis_new, name="basis_new"),
]
