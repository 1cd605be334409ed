"""Registering with household and guardians in one flow, the duplicate warning, editing a
child (masked ID, optimistic version with a merge on conflict) and editing a parent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog, ChangeRecord
from shouhu.children import editing
from shouhu.children.models import (
    Child,
    Consent,
    DelegatedCare,
    FamilyMember,
    Household,
)
from shouhu.lib import protect
from tests.world import BORN, ID_A1, ID_OTHER, VILLAGE_A, VILLAGE_B, WORK_CITY, World

pytestmark = pytest.mark.django_db

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(birth: str, sequence: str, *, county: str = "341524") -> str:
    """A GB 11643 number with a correct check digit (sequence odd: male, even: female)."""
    body = county + birth + sequence
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


ID_GIRL = id_number("20160909", "002")  # born 2016-09-09, female


def form(**overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "周小溪",
        "sex": "F",
        "birth_date": "2016-09-09",
        "id_number": "",
        "residence_code": VILLAGE_A,
        "living_arrangement": "grandparents",
        "schooling": "enrolled",
        "health": "well",
        "household-aid": "none",
        "members-TOTAL_FORMS": "4",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "8",
    }
    for i, (relation, name) in enumerate([("father", "周大山"), ("mother", "吴小红")]):
        data.update(
            {
                f"members-{i}-relation": relation,
                f"members-{i}-name": name,
                f"members-{i}-is_guardian": "on",
                f"members-{i}-capacity": "able",
                f"members-{i}-away": "on",
                f"members-{i}-away_place_code": WORK_CITY,
                f"members-{i}-away_since": "2024-02-01",
                f"members-{i}-away_reason": "work",
            }
        )
    for i in (2, 3):
        data[f"members-{i}-relation"] = ""
        data[f"members-{i}-capacity"] = "able"
    data.update(overrides)
    return data


def in_english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def registry_size() -> tuple[int, ...]:
    return (
        Child.objects.count(),
        Household.objects.count(),
        FamilyMember.objects.count(),
        ChangeRecord.objects.count(),
        Consent.objects.count(),
        DelegatedCare.objects.count(),
    )


# ---------------------------------------------------------------- who may use the pages


def test_every_page_sends_anonymous_users_to_log_in(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    father = a1.household.members.get(relation="father")
    urls = [
        reverse("children:register"),
        reverse("children:duplicates") + f"?id_number={ID_A1}",
        reverse("children:place_options") + "?q=杭州",
        reverse("children:edit", args=[a1.pk]),
        reverse("children:member_edit", args=[a1.pk, father.pk]),
    ]
    login = reverse("accounts:login")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    assert client.post(reverse("children:register"), form()).status_code == 302
    assert not Child.objects.filter(name="周小溪").exists()


def test_register_page_needs_a_registry_role(client: Client, world: World) -> None:
    client.force_login(world.teacher_a)
    assert client.get(reverse("children:register")).status_code == 403
    assert client.post(reverse("children:register"), form()).status_code == 403
    client.force_login(world.director_a)
    page = client.get(reverse("children:register")).content.decode()
    assert VILLAGE_A in page and VILLAGE_B not in page  # only villages of their area
    client.force_login(world.supervisor)
    page = client.get(reverse("children:register")).content.decode()
    assert VILLAGE_A in page and VILLAGE_B in page  # the whole township


# ---------------------------------------------------------------- registering


def test_register_child_household_and_parents_in_one_go(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    response = client.post(reverse("children:register"), form(id_number=ID_GIRL))
    child = Child.objects.get(name="周小溪")
    assert response.status_code == 302
    assert response["Location"] == reverse("children:detail", args=[child.pk])
    assert child.cat_left_behind_mca  # derived: both parents away for work
    assert child.id_number_enc and ID_GIRL not in child.id_number_enc
    members = FamilyMember.objects.filter(household=child.household)
    assert {(m.name, m.away_place_id) for m in members} == {
        ("周大山", WORK_CITY),
        ("吴小红", WORK_CITY),
    }
    history = ChangeRecord.objects.filter(child_id=child.pk, operation="create")
    assert sorted(history.values_list("object_type", flat=True)) == [
        "child",
        "familymember",
        "familymember",
        "household",
    ]
    assert all(r.actor_id == world.director_a.pk for r in history)
    assert ID_GIRL not in str(list(history.values_list("changes", flat=True)))
    page = client.get(response["Location"]).content.decode()
    assert "周大山" in page and "农村留守儿童" in page
    assert "变更历史" in page and "出生日期" in page  # history with field names in Chinese


def test_delegated_carer_and_consent_point_at_rows_of_the_family_table(
    client: Client, world: World
) -> None:
    client.force_login(world.director_a)
    data = form(
        **{
            # Row 3 stays empty; the grandmother is in row 4.
            "members-3-relation": "paternal_grandmother",
            "members-3-name": "周奶奶",
            "members-3-is_guardian": "on",
            "care-carer_row": "3",
            "care-no_abuse_record": "on",
            "care-capable_adult": "on",
            "care-confirmation_signed_on": "2024-02-01",
            "consent-given_by_row": "0",
            "consent-given_on": "2024-02-01",
            "consent-version": "2024-1",
            "consent-scopes": ["registry", "sharing"],
        }
    )
    response = client.post(reverse("children:register"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    child = Child.objects.get(name="周小溪")
    care = DelegatedCare.objects.get(household=child.household)
    assert care.carer.name == "周奶奶" and care.no_abuse_record and care.capable_adult
    consent = Consent.objects.get(child=child)
    assert consent.given_by.name == "周大山" and sorted(consent.scopes) == ["registry", "sharing"]


def test_more_people_fold_away_and_open_when_used(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    page = client.get(reverse("children:register")).content.decode()
    assert page.count('data-testid="member-row"') == 8
    assert '<details class="more-rows">' in page  # closed: rows 5 to 8 fold away
    data = form(**{"members-TOTAL_FORMS": "8", "members-5-name": "周叔叔"})
    data["members-5-capacity"] = "able"  # but no relation: an error in a folded row
    response = client.post(reverse("children:register"), data)
    assert '<details class="more-rows" open>' in response.content.decode()
    assert list(response.context["member_formset"].forms[5].errors) == ["relation"]
    data["members-5-relation"] = "other_relative"
    assert client.post(reverse("children:register"), data).status_code == 302
    child = Child.objects.get(name="周小溪")
    assert child.household.members.count() == 3


def test_consent_must_come_from_a_guardian(client: Client, world: World) -> None:
    in_english(client).force_login(world.director_a)
    before = registry_size()
    data = form(
        **{
            "members-0-is_guardian": "",
            "consent-given_by_row": "0",
            "consent-given_on": "2024-02-01",
            "consent-version": "2024-1",
            "consent-scopes": "registry",
        }
    )
    response = client.post(reverse("children:register"), data)
    assert response.status_code == 200
    assert "guardian" in " ".join(response.context["consent_form"].errors["given_by_row"])
    assert registry_size() == before


def test_carer_in_an_empty_row_is_an_error_on_that_field(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    before = registry_size()
    response = client.post(reverse("children:register"), form(**{"care-carer_row": "2"}))
    assert response.status_code == 200
    assert response.context["care_form"].errors["carer_row"]
    assert registry_size() == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id_number": ID_GIRL[:-1] + ("0" if ID_GIRL[-1] != "0" else "1")}, "check digit"),
        ({"id_number": id_number("20160910", "002")}, "does not match the date of birth"),
        ({"id_number": id_number("20160909", "001")}, "sex digit"),
        ({"id_number": "3415242016"}, "18 characters"),
        ({"name": ""}, "required"),
        ({"birth_date": "2016-02-31"}, "valid date"),
    ],
)
def test_child_errors_are_shown_next_to_the_field_and_nothing_is_written(
    client: Client, world: World, overrides: dict[str, str], message: str
) -> None:
    in_english(client).force_login(world.director_a)
    before = registry_size()
    response = client.post(reverse("children:register"), form(**overrides))
    assert response.status_code == 200
    field = next(iter(overrides))
    errors = response.context["child_form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert 'class="field-error"' in response.content.decode()
    assert registry_size() == before


def test_member_errors_land_on_their_row_even_after_an_empty_row(
    client: Client, world: World
) -> None:
    """The services number only the filled rows; errors go back to the row on the page."""
    in_english(client).force_login(world.director_a)
    data = form()
    for key in [k for k in data if k.startswith("members-1-")]:
        data[key.replace("members-1-", "members-2-")] = data.pop(key)
    data["members-1-relation"] = ""
    data["members-1-capacity"] = "able"
    data["members-2-away_since"] = ""  # the mother, now in row 3: away, but since when?
    data["members-0-relation"] = ""  # the father's relation left out
    before = registry_size()
    response = client.post(reverse("children:register"), data)
    assert response.status_code == 200
    rows = response.context["member_formset"].forms
    assert list(rows[0].errors) == ["relation"]
    assert not rows[1].errors
    assert registry_size() == before
    # With the relation fixed, the services find the missing date in the third row.
    data["members-0-relation"] = "father"
    response = client.post(reverse("children:register"), data)
    rows = response.context["member_formset"].forms
    assert not rows[0].errors and not rows[1].errors
    assert "since when" in " ".join(rows[2].errors["away_since"])
    page = response.content.decode()
    assert "请填写此人离开的起始日期" not in page and "since when" in page
    assert registry_size() == before


def test_errors_are_in_chinese_by_default(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    response = client.post(
        reverse("children:register"),
        form(id_number="341524201609090011", **{"members-1-away_since": ""}),
    )
    page = response.content.decode()
    assert "身份证号" in page and "请填写此人离开的起始日期" in page


def test_work_place_may_be_typed_as_a_name(client: Client, world: World) -> None:
    in_english(client).force_login(world.director_a)
    options = client.get(reverse("children:place_options"), {"members-0-away_place_code": "杭州"})
    assert '<option value="330100000000">' in options.content.decode()
    ambiguous = client.post(
        reverse("children:register"), form(**{"members-0-away_place_code": "西湖"})
    )
    assert ambiguous.status_code == 200
    error = " ".join(ambiguous.context["member_formset"].forms[0].errors["away_place_code"])
    assert WORK_CITY in error and "360103000000" in error  # Hangzhou's and Nanchang's
    nowhere = client.post(
        reverse("children:register"), form(**{"members-0-away_place_code": "不存在的地方"})
    )
    assert nowhere.context["member_formset"].forms[0].errors["away_place_code"]
    response = client.post(
        reverse("children:register"),
        form(**{"members-0-away_place_code": "杭州 西湖", "members-1-away_place_code": "杭州"}),
    )
    assert response.status_code == 302
    child = Child.objects.get(name="周小溪")
    places = dict(child.household.members.values_list("relation", "away_place_id"))
    assert places == {"father": WORK_CITY, "mother": "330100000000"}


def test_register_outside_area_is_refused_on_the_village_field(
    client: Client, world: World
) -> None:
    in_english(client).force_login(world.director_a)
    before = registry_size()
    response = client.post(reverse("children:register"), form(residence_code=VILLAGE_B))
    assert response.status_code == 200
    assert "You cannot register children living in this place." in " ".join(
        response.context["child_form"].errors["residence_code"]
    )
    assert registry_size() == before


# ---------------------------------------------------------------- duplicates


def duplicate_checks() -> Any:
    return AccessLog.objects.filter(purpose="duplicate_check").order_by("id")


def test_duplicate_warning_fragment(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    fragment = client.get(reverse("children:duplicates"), {"id_number": ID_A1})
    page = fragment.content.decode()
    assert "张伟" in page and reverse("children:detail", args=[world.children["a1"].pk]) in page
    assert "confirm_not_duplicate" in page  # may confirm straight away
    assert "<html" not in page  # a fragment, not a page
    entry = duplicate_checks().latest("id")
    assert entry.child_id == world.children["a1"].pk and entry.user == world.director_a
    assert ID_A1 not in str(entry.detail)
    same = client.get(
        reverse("children:duplicates"),
        {"name": "张伟", "birth_date": BORN.isoformat(), "residence_code": VILLAGE_A},
    )
    assert "张伟" in same.content.decode()
    other_day = client.get(
        reverse("children:duplicates"),
        {"name": "张伟", "birth_date": "2015-03-02", "residence_code": VILLAGE_A},
    )
    assert "data-testid" not in other_day.content.decode()
    # Every lookup is logged, one that found nobody too (without a child).
    assert [e.child_id for e in duplicate_checks()] == [world.children["a1"].pk] * 2 + [None]


def test_a_child_outside_the_area_is_neither_confirmed_nor_denied(
    client: Client, world: World
) -> None:
    """The same answer for an ID number registered in another village and for one
    registered nowhere (and for a name, birth date and village): check with the supervisor.
    Each lookup is logged; none names the child outside the area."""
    client.force_login(world.director_b)

    def ask(**params: str) -> str:
        response = client.get(reverse("children:duplicates"), params)
        assert response.status_code == 200
        return str(response.content.decode())

    registered, unregistered = ask(id_number=ID_A1), ask(id_number=ID_OTHER)
    assert registered == unregistered
    assert "张伟" not in registered and "督导员" in registered
    by_name = {"birth_date": BORN.isoformat(), "residence_code": VILLAGE_A}
    assert ask(name="张伟", **by_name) == ask(name="张无忌", **by_name) == registered
    checks = list(duplicate_checks())
    assert len(checks) == 4 and {e.user_id for e in checks} == {world.director_b.pk}
    assert {e.child_id for e in checks} == {None}


def test_duplicate_check_is_only_for_those_who_register(client: Client, world: World) -> None:
    for persona in ("teacher_a", "volunteer", "official"):
        client.force_login(getattr(world, persona))
        response = client.get(reverse("children:duplicates"), {"id_number": ID_A1})
        assert response.status_code == 403, persona
        assert "张伟" not in response.content.decode()


def test_duplicate_fragment_ignores_bad_input(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    for params in [
        {"birth_date": "2016-02-31", "name": "张伟", "residence_code": VILLAGE_A},
        {"birth_date": "yesterday", "name": "张伟", "residence_code": VILLAGE_A},
        {"id_number": "x" * 500},
        {},
    ]:
        response = client.get(reverse("children:duplicates"), params)
        assert response.status_code == 200
        assert "data-testid" not in response.content.decode()


def test_possible_duplicate_blocks_saving_until_confirmed(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    data = form(name="张伟", sex="M", birth_date=BORN.isoformat())  # same name, date, village
    blocked = client.post(reverse("children:register"), data)
    assert blocked.status_code == 200 and Child.objects.filter(name="张伟").count() == 1
    page = blocked.content.decode()
    assert "confirm_not_duplicate" in page and 'data-testid="duplicates"' in page
    assert blocked.context["member_formset"].forms[0]["name"].value() == "周大山"  # input kept
    saved = client.post(reverse("children:register"), {**data, "confirm_not_duplicate": "1"})
    assert saved.status_code == 302 and Child.objects.filter(name="张伟").count() == 2


def test_a_duplicate_outside_the_area_is_registered_as_an_unknown_one_would_be(
    client: Client, world: World
) -> None:
    """Blocking the form would say the ID number is registered elsewhere: the form saves
    as it would for a new ID number (the page tells every registrar to check with the
    supervisor when a child may have been registered elsewhere)."""
    client.force_login(world.director_b)
    data = form(name="张小伟", sex="M", birth_date=BORN.isoformat(), id_number=ID_A1)
    data["residence_code"] = VILLAGE_B
    saved = client.post(reverse("children:register"), data)
    assert saved.status_code == 302 and Child.objects.filter(name="张小伟").exists()
    assert duplicate_checks().filter(user=world.director_b, child_id__isnull=True).exists()


def test_duplicate_warning_stays_while_other_fields_have_errors(
    client: Client, world: World
) -> None:
    client.force_login(world.director_a)
    data = form(name="张伟", sex="M", birth_date=BORN.isoformat(), id_number=ID_A1)
    data["members-0-away_since"] = "not a date"
    response = client.post(reverse("children:register"), data)
    assert response.context["duplicates"] == [world.children["a1"]]


# ---------------------------------------------------------------- editing a child


def edit_data(page_context: dict[str, Any], **changes: str) -> dict[str, Any]:
    """What the browser would post back from the edit page, with some fields changed."""
    form = page_context["form"]
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.widget.input_type == "checkbox":
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
    for hidden in ("version", "original"):
        if hidden in page_context:
            data[hidden] = page_context[hidden]
    data.update(changes)
    return data


def test_edit_shows_the_id_masked_and_keeps_it(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.director_a)
    url = reverse("children:edit", args=[a1.pk])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and ID_A1 not in html
    assert f'value="3415**********{ID_A1[-4:]}"' in html
    response = client.post(url, edit_data(page.context, grade="四年级"))
    assert response.status_code == 302, response.content.decode()[:2000]
    a1.refresh_from_db()
    assert a1.grade == "四年级" and a1.version == 2
    assert a1.id_number_hash == protect.id_hash(ID_A1)  # the masked box kept it
    change = ChangeRecord.objects.filter(child_id=a1.pk, operation="update").latest("id")
    assert change.changes == {"grade": ["三年级", "四年级"]}
    assert change.actor_id == world.director_a.pk


def test_edit_replaces_or_removes_the_id_number(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.director_a)
    url = reverse("children:edit", args=[a1.pk])
    new_id = ID_OTHER
    response = client.post(url, edit_data(client.get(url).context, id_number=new_id))
    assert response.status_code == 302
    a1.refresh_from_db()
    assert a1.id_number_hash == protect.id_hash(new_id)
    response = client.post(url, edit_data(client.get(url).context, id_number=""))
    assert response.status_code == 302
    a1.refresh_from_db()
    assert a1.id_number_enc == "" and a1.id_number_hash == ""


def test_edit_with_nothing_changed_writes_nothing(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.director_a)
    url = reverse("children:edit", args=[a1.pk])
    before = ChangeRecord.objects.count()
    assert client.post(url, edit_data(client.get(url).context)).status_code == 302
    a1.refresh_from_db()
    assert a1.version == 1 and ChangeRecord.objects.count() == before


def test_edit_errors_are_shown_and_nothing_is_saved(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    in_english(client).force_login(world.director_a)
    url = reverse("children:edit", args=[a1.pk])
    context = client.get(url).context
    bad = client.post(url, edit_data(context, birth_date="2015-03-02"))  # ID says 03-01
    assert bad.status_code == 200
    assert "does not match" in " ".join(bad.context["form"].errors["id_number"])
    moved = client.post(url, edit_data(context, residence_code=VILLAGE_B))
    assert moved.context["form"].errors["residence_code"]
    incomplete = edit_data(context, grade="六年级")
    del incomplete["version"]
    assert client.post(url, incomplete).status_code == 200
    a1.refresh_from_db()
    assert a1.version == 1 and a1.grade == "三年级" and a1.residence_id == VILLAGE_A


def test_edit_conflict_keeps_input_merges_theirs_and_marks_clashes(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"]
    in_english(client).force_login(world.director_a)
    url = reverse("children:edit", args=[a1.pk])
    opened = client.get(url).context
    # The supervisor saves first: grade and boarding.
    editing.child_update(
        actor=world.supervisor,
        child=a1,
        version=a1.version,
        changes={"grade": "四年级", "boarding": True},
    )
    mine = edit_data(opened, grade="五年级", health="ill")
    conflict = client.post(url, mine)
    assert conflict.status_code == 200
    page = conflict.content.decode()
    assert "Someone else saved" in page
    form = conflict.context["form"]
    assert form["health"].value() == "ill"  # my entry kept
    assert form["grade"].value() == "五年级"  # mine, marked: we both changed it
    assert "Changed meanwhile to: 四年级" in " ".join(form.errors["grade"])
    assert form["boarding"].value() is True  # theirs came in
    a1.refresh_from_db()
    assert (a1.grade, a1.health, a1.version) == ("四年级", "well", 2)  # nothing of mine yet
    assert conflict.context["version"] == 2
    # Saving again applies my changes on top of theirs.
    again = client.post(url, edit_data(conflict.context))
    assert again.status_code == 302
    a1.refresh_from_db()
    assert (a1.grade, a1.health, a1.boarding, a1.version) == ("五年级", "ill", True, 3)


def test_stale_page_without_the_original_still_refuses_to_overwrite(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"]
    in_english(client).force_login(world.director_a)
    url = reverse("children:edit", args=[a1.pk])
    data = edit_data(client.get(url).context, grade="四年级")
    assert client.post(url, data).status_code == 302
    data["original"] = "not json"
    stale = client.post(url, {**data, "grade": "五年级"})  # the same old version
    assert stale.status_code == 200 and "Someone else saved" in stale.content.decode()
    a1.refresh_from_db()
    assert a1.grade == "四年级"


def test_edit_outside_scope_is_404_and_teachers_may_not_edit(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    b1 = world.children["b1"]
    assert client.get(reverse("children:edit", args=[b1.pk])).status_code == 404
    assert client.post(reverse("children:edit", args=[b1.pk]), {"grade": "x"}).status_code == 404
    assert client.get(reverse("children:edit", args=[999999])).status_code == 404
    assert AccessLog.objects.filter(child_id=b1.pk, action="denied", purpose="edit").exists()
    client.force_login(world.teacher_a)
    assert client.get(reverse("children:edit", args=[world.children["a1"].pk])).status_code == 403
    client.force_login(world.supervisor)  # the township covers both villages
    assert client.get(reverse("children:edit", args=[b1.pk])).status_code == 200


# ---------------------------------------------------------------- editing a parent


def test_member_edit_recomputes_categories_and_records_history(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"]
    assert a1.cat_left_behind_mca
    father = a1.household.members.get(relation="father")
    client.force_login(world.director_a)
    url = reverse("children:member_edit", args=[a1.pk, father.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        k: v
        for k, v in edit_data(page.context).items()
        if k not in {"version", "original", "away", "away_since", "away_reason"}
    }
    data["away_place_code"] = ""
    response = client.post(url, data)  # the father came home
    assert response.status_code == 302, response.content.decode()[:2000]
    a1.refresh_from_db()
    assert not a1.cat_left_behind_mca
    changes = ChangeRecord.objects.filter(
        child_id=a1.pk, object_type="familymember", operation="update"
    ).latest("id")
    assert changes.changes["away"] == [True, False]
    assert "phone_enc" not in changes.changes  # the masked phone was kept
    father.refresh_from_db()
    assert protect.unseal(father.phone_enc) == "13800138000"


def test_member_edit_shows_phone_masked_and_place_by_name(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    mother = a1.household.members.get(relation="mother")
    client.force_login(world.director_a)
    url = reverse("children:member_edit", args=[a1.pk, mother.pk])
    page = client.get(url)
    html = page.content.decode()
    assert "13900139000" not in html and 'value="139****9000"' in html
    assert "浙江省 杭州市 西湖区" in html and '<datalist id="work-places">' in html
    data = {k: v for k, v in edit_data(page.context).items() if k not in {"version", "original"}}
    data.update({"phone": "13700137000", "away_place_code": "宝安"})
    assert client.post(url, data).status_code == 302
    mother.refresh_from_db()
    assert protect.unseal(mother.phone_enc) == "13700137000"
    assert mother.away_place_id == "440306000000"
    data["phone"] = ""
    assert client.post(url, data).status_code == 302
    mother.refresh_from_db()
    assert mother.phone_enc == ""


def test_member_edit_errors_and_scope(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    father = a1.household.members.get(relation="father")
    in_english(client).force_login(world.director_a)
    url = reverse("children:member_edit", args=[a1.pk, father.pk])
    data = edit_data(client.get(url).context, away_since="")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "since when" in " ".join(response.context["form"].errors["away_since"])
    father.refresh_from_db()
    assert father.away_since == dt.date(2024, 2, 1)
    other = world.children["b1"].household.members.first()
    assert other is not None
    assert client.get(reverse("children:member_edit", args=[a1.pk, other.pk])).status_code == 404
    b1 = world.children["b1"]
    assert client.get(reverse("children:member_edit", args=[b1.pk, other.pk])).status_code == 404
    client.force_login(world.teacher_a)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("number", ["5012345", "1380013800", "12345678901"])
def test_a_phone_number_that_cannot_be_dialled_is_refused(
    client: Client, world: World, number: str
) -> None:
    """A 7-digit "mobile", a mobile with a digit missing, or one that no operator issues."""
    in_english(client).force_login(world.director_a)
    data = form(**{"members-0-phone": number})
    before = registry_size()
    response = client.post(reverse("children:register"), data)
    assert response.status_code == 200 and registry_size() == before
    assert "a mobile has 11 digits" in " ".join(
        response.context["member_formset"].forms[0].errors["phone"]
    )


@pytest.mark.parametrize("number", ["13800138000", "0564-5012345", "+1 415 555 2671"])
def test_mobiles_landlines_and_numbers_abroad_are_taken(
    client: Client, world: World, number: str
) -> None:
    client.force_login(world.director_a)
    before = Child.objects.count()
    response = client.post(reverse("children:register"), form(**{"members-0-phone": number}))
    assert response.status_code == 302 and Child.objects.count() == before + 1


def test_every_error_is_reported_on_the_first_submit_with_a_summary(
    client: Client, world: World
) -> None:
    """A child's name left out and a member's phone mistyped: both on the first submit, counted
    at the top with a link to each field; required fields are marked."""
    in_english(client).force_login(world.director_a)
    blank = client.get(reverse("children:register")).content.decode()
    assert 'class="required"' in blank and 'data-testid="error-summary"' not in blank
    data = form(name="", **{"members-0-phone": "5012345"})
    response = client.post(reverse("children:register"), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="error-summary"' in page and "2 things to correct" in page
    assert 'href="#id_name"' in page and 'href="#id_members-0-phone"' in page
    assert "Row 1: " in page
