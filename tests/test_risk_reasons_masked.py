"""A risk colour's reasons name sensitive facts (事实无人抚养, the guardianship rating, a
mandatory report): readers below the sensitive class see the colour and the visits owed,
never why (security review, issue 10 §6.2)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.children.models import Child
from shouhu.screening import risk
from tests.world import World

pytestmark = pytest.mark.django_db

REASONS = ("事实无人抚养", "监护情况差")


@pytest.fixture
def child(world: World) -> Child:
    """张伟 (a1), de facto without support and in poor guardianship: orange."""
    a1 = world.children["a1"]
    Child.objects.filter(pk=a1.pk).update(cat_de_facto_unsupported=True, guardianship_rating="poor")
    a1.refresh_from_db()
    assert risk.recompute(a1).level == "orange"
    return a1


def _page(user: object, child: Child) -> str:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    response = client.get(reverse("children:detail", args=[child.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_readers_of_sensitive_fields_see_why(world: World, child: Child) -> None:
    for name in ("director_a", "supervisor"):
        page = _page(world.users[name], child)
        assert 'data-testid="risk-reasons"' in page, name
        assert all(reason in page for reason in REASONS), name


@pytest.mark.parametrize("name", ["official", "teacher_a"])
def test_readers_below_the_sensitive_class_see_the_colour_and_visits_only(
    world: World, child: Child, name: str
) -> None:
    page = _page(world.users[name], child)
    assert 'data-testid="risk-level"' in page and "橙色" in page  # the colour
    assert "天随访一次" in page  # the visits it sets
    assert 'data-testid="risk-reasons"' not in page
    assert not any(reason in page for reason in REASONS), name


def test_volunteers_see_no_risk_box(world: World, child: Child) -> None:
    page = _page(world.volunteer, child)
    assert 'data-testid="risk"' not in page
    assert not any(reason in page for reason in REASONS)
