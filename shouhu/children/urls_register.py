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
]
