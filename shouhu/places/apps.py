from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "shouhu.places"
    verbose_name = "Places"
