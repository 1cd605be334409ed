import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouhu.settings")
application = get_wsgi_application()


def _refuse_demo_data_in_production() -> None:
    """Production never serves the demo county: its logins have a published password."""
    from django.conf import settings

    if settings.PRODUCTION:
        from shouhu.demo.services import refuse_demo_data

        refuse_demo_data()


_refuse_demo_data_in_production()
