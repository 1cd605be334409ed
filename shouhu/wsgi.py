import gc
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


def _load_every_view() -> None:
    """The URLconf and every view module it imports, loaded now rather than by the first
    request: so that they are frozen below with the rest of the start-up."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the property imports the views


_load_every_view()

# What the start-up loaded (Django, the URL resolvers, the catalogues, the libraries) lives as
# long as the process: kept out of the garbage collector's generations, a full collection
# no longer walks it, which took one request in ten about 150 ms longer on the board pages
# (docs/PERFORMANCE.md). A worker forked after this shares those pages copy-on-write too.
gc.collect()
gc.freeze()
