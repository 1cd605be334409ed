from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "shouhu.programmes"
    verbose_name = "Programmes"

    def ready(self) -> None:
        from shouhu.children import panels
        from shouhu.programmes.panels import counselling_panel

        panels.register(counselling_panel)
