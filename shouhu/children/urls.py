from django.urls import path

from shouhu.children import views
from shouhu.children.urls_register import urlpatterns as register_patterns

app_name = "children"
urlpatterns = [
    path("", views.child_list, name="list"),
    path("children/<int:pk>/", views.child_detail, name="detail"),
    path("children/<int:pk>/reveal/", views.child_reveal, name="reveal"),
    *register_patterns,
]
