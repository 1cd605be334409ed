from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.test import override_settings

from shouhu.lib.clock import SHANGHAI
from shouhu.places.models import Place
from shouhu.places.services import places_load_vendored
from tests.world import TODAY, World, build_world


def ensure_places() -> None:
    """The data the migrations ship (places, the programme catalogue), put back where a
    transactional test flushed it."""
    if not Place.objects.filter(pk="341524101204").exists():
        places_load_vendored()
    from shouhu.programmes.catalogue import ensure_shipped
    from shouhu.programmes.models import Design

    if not Design.objects.filter(organisation=None).exists():
        ensure_shipped()


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


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _empty_cache():  # type: ignore[no-untyped-def]
    """Each test's database is rolled back: what was cached from it must go too."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(
        (marker and marker.kwargs.get("transaction"))
        or fixtures & {"transactional_db", "live_server"}
    )


@pytest.fixture(scope="module")
def _module_world(request, django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The persona world, built once per test module (as Django's `setUpTestData`): inside
    a transaction that each test's own transaction nests in as a savepoint, rolled back
    after the module's last test. A module with a test that commits (a transactional test,
    the live server) builds the world per test instead."""
    module = request.node
    if any(_transactional(i) for i in request.session.items if i.module is module.obj):
        yield None
        return
    with django_db_blocker.unblock():
        from django.db import transaction

        # An hour before the tests' clock: what a test writes comes after the world.
        at = dt.datetime.combine(TODAY, dt.time(9), tzinfo=SHANGHAI)
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with time_machine.travel(at), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
                ensure_places()
                world = build_world()
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_module_world, db) -> World:  # type: ignore[no-untyped-def]
    """The persona world of tests/world.py: a copy of the module's (each test's writes are
    rolled back with its savepoint), or a fresh one where the module commits."""
    if _module_world is None:
        ensure_places()
        return build_world()
    return copy.deepcopy(_module_world)


@pytest.fixture
def sharing_allowed(world: World) -> World:  # type: ignore[no-untyped-def]
    """Every child of the world may be shared with another organisation: a legal basis for
    sharing is on record (the referral rule, `cases.rules.referral_basis`)."""
    from shouhu.children.models import ProcessingBasis
    from tests.world import TODAY

    for child in world.children.values():
        ProcessingBasis.objects.get_or_create(
            child=child,
            purpose="sharing",
            defaults={"basis": "statutory_duty", "recorded_on": TODAY, "note": "未保法第11条"},
        )
    return world
