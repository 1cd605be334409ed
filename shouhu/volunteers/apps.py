from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "shouhu.volunteers"
    verbose_name = "Volunteers"

    def ready(self) -> None:
        from shouhu.children import panels
        from shouhu.volunteers.panels import volunteer_panel

        panels.register(volunteer_panel)
