from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine

from shouhu.lib.clock import SHANGHAI
from shouhu.places.models import Place
from shouhu.places.services import places_load_vendored
from tests.world import TODAY, World, build_world


def ensure_places() -> None:
    if not Place.objects.filter(pk="341524101204").exists():
        places_load_vendored()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        ensure_places()


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    """Every test runs at 10:00 on `TODAY` in Shanghai; time flows from there. A test that
    needs another moment moves this clock (`clock.move_to(...)`, `clock.shift(...)`)."""
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(10), tzinfo=SHANGHAI)) as t:
        yield t


@pytest.fixture(autouse=True)
def _fast_passwords(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():  # type: ignore[no-untyped-def]
    """Each test's database is rolled back: what was cached from it must go too."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    ensure_places()
    return build_world()


@pytest.fixture
def sharing_allowed(world: World) -> World:  # type: ignore[no-untyped-def]
    """Every child of the world may be shared with another organisation: a legal basis for
    sharing is on record (the referral rule, `cases.services.referral_basis`)."""
    from shouhu.children.models import ProcessingBasis
    from tests.world import TODAY

    for child in world.children.values():
        ProcessingBasis.objects.get_or_create(
            child=child,
            purpose="sharing",
            defaults={"basis": "statutory_duty", "recorded_on": TODAY, "note": "未保法第11条"},
        )
    return world
