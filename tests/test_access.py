"""Who sees which child, and which field classes — the rules of DESIGN.md."""

from __future__ import annotations

import pytest
from django.http import Http404

from shouhu import access
from shouhu.audit.models import AccessLog
from tests.world import World

pytestmark = pytest.mark.django_db

VISIBLE = {
    "director_a": {"a1"},
    "director_b": {"b1"},
    "director_c": {"c1"},
    "director_dest": {"dest1"},
    "supervisor": {"a1", "b1"},  # township 1 only
    "official": {"a1", "b1", "c1"},  # the whole county, not Shenzhen
    "teacher_a": {"a1"},
    "teacher_b": {"b1"},
    "socialworker": {"a1"},  # assigned
    "socialworker_dest": set(),
    "counselor": {"b1"},
    "volunteer": {"a1"},
    "techenvoy": set(),
    "admin": set(),
}


@pytest.mark.parametrize(("persona", "expected"), VISIBLE.items())
def test_each_persona_sees_exactly_their_children(
    world: World, persona: str, expected: set[str]
) -> None:
    user = world.users[persona]
    ids = set(access.children_visible_to(user).values_list("pk", flat=True))
    assert ids == {world.children[k].pk for k in expected}


@pytest.mark.parametrize(("persona", "expected"), VISIBLE.items())
def test_get_child_for_user_is_404_outside_scope_and_logs_the_view_inside(
    world: World, persona: str, expected: set[str]
) -> None:
    user = world.users[persona]
    for key, child in world.children.items():
        if key in expected:
            assert access.get_child_for_user(user, child.pk, purpose="test") == child
            assert AccessLog.objects.filter(
                user=user, action="view_child", child_id=child.pk
            ).exists()
        else:
            with pytest.raises(Http404):
                access.get_child_for_user(user, child.pk, purpose="test")
            assert AccessLog.objects.filter(user=user, action="denied", child_id=child.pk).exists()


def test_missing_and_forbidden_look_the_same(world: World) -> None:
    with pytest.raises(Http404) as missing:
        access.get_child_for_user(world.teacher_a, 999_999, purpose="test")
    with pytest.raises(Http404) as forbidden:
        access.get_child_for_user(world.teacher_a, world.children["b1"].pk, purpose="test")
    assert str(missing.value) == str(forbidden.value)


@pytest.mark.parametrize(
    ("persona", "child", "classes"),
    [
        ("director_a", "a1", {"basic", "identifying", "sensitive"}),
        ("supervisor", "b1", {"basic", "identifying", "sensitive"}),
        ("official", "a1", {"basic"}),
        ("teacher_a", "a1", {"basic"}),
        ("socialworker", "a1", {"basic", "identifying", "sensitive"}),
        ("counselor", "b1", {"basic", "sensitive"}),
        ("volunteer", "a1", {"basic"}),
        ("teacher_a", "b1", set()),
    ],
)
def test_field_class_ceilings(world: World, persona: str, child: str, classes: set[str]) -> None:
    assert access.field_classes(world.users[persona], world.children[child]) == classes


def test_only_officials_may_break_glass(world: World) -> None:
    assert access.can_break_glass(world.official, world.children["a1"])
    assert not access.can_break_glass(world.teacher_a, world.children["a1"])
    assert not access.can_break_glass(world.official, world.children["dest1"])


def test_ended_assignment_closes_the_child(world: World) -> None:
    world.children["a1"].assignments.filter(user=world.socialworker).update(active=False)
    world.socialworker._shouhu_scope = None  # type: ignore[attr-defined]
    assert not access.children_visible_to(world.socialworker).exists()


def test_org_level_referral_opens_the_child_to_the_receiving_social_workers(world: World) -> None:
    from shouhu.children import assignments

    child = world.children["dest1"]
    child.processing_bases.create(
        purpose="sharing", basis="statutory_duty", recorded_on="2026-11-01"
    )
    assignments.assignment_create(
        actor=None, child=child, organisation=world.orgs["swo"], kind="referral"
    )
    assert child in access.children_visible_to(world.socialworker)
    assert access.field_classes(world.socialworker, child) == {"basic", "identifying", "sensitive"}


def test_a_requests_cache_of_assignments_forgets_when_one_is_written(world: World) -> None:
    """Within a request a child's assignments are read once; writing one empties the cache,
    so the same request never decides on what was true before."""
    from shouhu.children import assignments
    from shouhu.children.models import ChildAssignment

    child = world.children["dest1"]
    child.processing_bases.create(
        purpose="sharing", basis="statutory_duty", recorded_on="2026-11-01"
    )
    with access.request_cache():
        assert access.field_classes(world.socialworker, child) == frozenset()
        assignments.assignment_create(
            actor=None, child=child, organisation=world.orgs["swo"], kind="referral"
        )
        assert "sensitive" in access.field_classes(world.socialworker, child)
        ChildAssignment.objects.filter(child=child).update(active=False)
        access.forget_assignments()  # a queryset update sends no signal: its writer says so
        assert access.field_classes(world.socialworker, child) == frozenset()


def test_inactive_user_sees_nothing(world: World) -> None:
    from shouhu.accounts.models import User

    User.objects.filter(pk=world.director_a.pk).update(is_active=False)
    fresh = User.objects.get(pk=world.director_a.pk)
    assert not access.children_visible_to(fresh).exists()


def test_sensitive_selector_excludes_basic_only_grants(world: World) -> None:
    assert not access.children_visible_to(world.teacher_a, needs="sensitive").exists()
    assert set(access.children_visible_to(world.counselor, needs="sensitive")) == {
        world.children["b1"]
    }
