from django.urls import path

from shouhu.children import views_io

app_name = "children_io"
urlpatterns = [
    path("import/", views_io.import_view, name="import"),
    path("import/template.xlsx", views_io.template_view, name="template"),
    path("export.xlsx", views_io.export_view, name="export"),
]
