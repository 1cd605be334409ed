"""Editing the whole file, not only the child's own fields: the household (address,
assistance, income), adding a family member, delegated care, consent given later or
withdrawn, the legal basis of processing; and the change history of every registry write,
including the consent and delegated care recorded at registration."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import ChangeRecord
from shouhu.children import consents as child_consents
from shouhu.children import editing, registration
from shouhu.children.data import ConsentData, DelegatedCareData, MemberData
from shouhu.children.models import (
    Child,
    Consent,
    DelegatedCare,
    FamilyMember,
    Household,
    ProcessingBasis,
)
from shouhu.lib import clock, protect
from tests.world import (
    ID_OTHER,
    TODAY,
    VILLAGE_A,
    WORK_CITY,
    World,
    away_parents,
    child_data,
    register,
)

pytestmark = pytest.mark.django_db

ENC = "[encrypted value changed]"  # what the history records for an encrypted value


def records(child: Child, object_type: str, operation: str | None = None) -> list[ChangeRecord]:
    qs = ChangeRecord.objects.filter(child_id=child.pk, object_type=object_type)
    if operation:
        qs = qs.filter(operation=operation)
    return list(qs.order_by("id"))


def member(child: Child, relation: str) -> FamilyMember:
    return child.household.members.get(relation=relation)


def in_english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def only_mother_away() -> list[MemberData]:
    """The mother works away; no father recorded yet: not left-behind in the MCA sense."""
    mother = away_parents()[1]
    return [mother, MemberData(name="外婆", relation="maternal_grandmother")]


# ================================================================ 1a. registration history


def test_registration_records_the_consent_and_delegated_care_it_creates(world: World) -> None:
    child = register(
        world.director_a,
        child_data("林小溪", VILLAGE_A),
        delegated_care=DelegatedCareData(
            carer_index=2,
            no_abuse_record=True,
            capable_adult=True,
            confirmation_signed_on=dt.date(2024, 2, 1),
        ),
        consent=ConsentData(
            given_by_index=0,
            given_on=dt.date(2024, 2, 1),
            version="2024-1",
            scopes=["registry", "sharing"],
        ),
    )
    grandma = member(child, "paternal_grandmother")
    [care] = records(child, "delegatedcare", "create")
    assert care.actor_id == world.director_a.pk
    assert care.changes["carer"] == [None, grandma.pk]
    assert care.changes["no_abuse_record"] == [None, True]
    assert care.changes["confirmation_signed_on"] == [None, "2024-02-01"]
    assert care.object_id == str(DelegatedCare.objects.get(household=child.household).pk)
    [consent] = records(child, "consent", "create")
    assert consent.actor_id == world.director_a.pk
    assert consent.changes["given_by"] == [None, member(child, "father").pk]
    assert consent.changes["version"] == [None, "2024-1"]
    assert consent.changes["scopes"] == [None, ["registry", "sharing"]]
    # The file's own records come first, then what hangs off it.
    kinds = [r.object_type for r in ChangeRecord.objects.filter(child_id=child.pk).order_by("id")]
    assert kinds.index("child") < kinds.index("delegatedcare") < kinds.index("consent")


def test_registering_into_a_household_files_its_care_change_under_every_child(
    world: World,
) -> None:
    a1 = world.children["a1"]
    grandma = member(a1, "paternal_grandmother")
    editing.delegated_care_set(actor=world.director_a, child=a1, carer_id=grandma.pk)
    sibling = registration.child_register(
        actor=world.director_a,
        child=child_data("张小妹", VILLAGE_A, sex="F", birth_date=dt.date(2018, 4, 1)),
        household_id=a1.household_id,
        members=[MemberData(name="姑姑", relation="other_relative")],
        delegated_care=DelegatedCareData(carer_index=0, capable_adult=True),
        today=TODAY,
    )
    aunt = sibling.household.members.get(name="姑姑")
    for child in (a1, sibling):
        update = records(child, "delegatedcare", "update")[-1]
        assert update.changes["carer"] == [grandma.pk, aunt.pk]
        assert update.changes["capable_adult"] == [False, True]


def test_registration_refuses_a_carer_or_consent_row_that_does_not_exist(world: World) -> None:
    with pytest.raises(ValidationError) as err:
        register(
            world.director_a,
            child_data("错行", VILLAGE_A),
            delegated_care=DelegatedCareData(carer_index=7),
            consent=ConsentData(given_by_index=-1, given_on=TODAY, version="v"),
        )
    assert {"delegated_care.carer_index", "consent.given_by_index"} <= set(err.value.message_dict)
    assert not Child.objects.filter(name="错行").exists()


# ================================================================ encrypted values in history


def test_replacing_an_encrypted_value_is_recorded(world: World) -> None:
    """An ID number or phone replaced by another one is a change, though neither value is
    ever written to the history."""
    a1 = world.children["a1"]
    father = member(a1, "father")
    editing.member_update(actor=world.director_a, member=father, changes={"phone": "13700137000"})
    update = records(a1, "familymember", "update")[-1]
    assert update.changes == {"phone_enc": [ENC, ENC]}
    assert update.actor_id == world.director_a.pk
    new_id = ID_OTHER  # also male, 2015-03-01
    editing.child_update(
        actor=world.director_a, child=a1, version=a1.version, changes={"id_number": new_id}
    )
    change = records(a1, "child", "update")[-1]
    assert change.changes["id_number_enc"] == [ENC, ENC]
    assert new_id not in str(change.changes)


# ================================================================ 2a. household


def test_household_aid_turns_on_the_poverty_category_of_every_child(world: World) -> None:
    a1 = world.children["a1"]
    sibling = registration.child_register(
        actor=world.director_a,
        child=child_data("张小妹", VILLAGE_A, sex="F", birth_date=dt.date(2018, 4, 1)),
        household_id=a1.household_id,
        today=TODAY,
    )
    assert not a1.cat_difficulty_poverty and not sibling.cat_difficulty_poverty
    editing.household_update(
        actor=world.director_a,
        child=a1,
        changes={"aid": "dibao", "income_source": "务农", "address": "全山村 3 组 12 号"},
    )
    for child in (a1, sibling):
        child.refresh_from_db()
        assert child.cat_difficulty_poverty  # 低保 household: 困境儿童 (poverty)
        [home] = records(child, "household", "update")
        assert home.actor_id == world.director_a.pk
        assert home.changes["aid"] == ["none", "dibao"]
        assert home.changes["income_source"] == ["", "务农"]
        assert home.changes["address_enc"] == ["", ENC]
        category = records(child, "child", "update")[-1]
        assert category.changes["cat_difficulty_poverty"] == [False, True]
        assert category.actor_id == world.director_a.pk  # who caused it, not "system"
    household = Household.objects.get(pk=a1.household_id)
    assert protect.unseal(household.address_enc) == "全山村 3 组 12 号"
    assert "全山村 3 组" not in str(list(ChangeRecord.objects.values_list("changes", flat=True)))
    # A new address replacing the old one is recorded too; leaving it out keeps it.
    editing.household_update(actor=world.director_a, child=a1, changes={"address": "新址"})
    assert records(a1, "household", "update")[-1].changes == {"address_enc": [ENC, ENC]}
    editing.household_update(actor=world.director_a, child=a1, changes={"aid": "none"})
    household.refresh_from_db()
    assert protect.unseal(household.address_enc) == "新址"
    a1.refresh_from_db()
    assert not a1.cat_difficulty_poverty


def test_household_update_validates_and_checks_who_edits(world: World) -> None:
    a1 = world.children["a1"]
    with pytest.raises(ValidationError) as err:
        editing.household_update(
            actor=world.director_a, child=a1, changes={"aid": "rich", "address": "x" * 201}
        )
    assert {"aid", "address"} <= set(err.value.message_dict)
    with pytest.raises(ValidationError) as err:
        editing.household_update(actor=world.director_a, child=a1, changes={"village": "x"})
    assert "village" in err.value.message_dict
    for outsider in (world.teacher_a, world.director_b):
        with pytest.raises(PermissionDenied):
            editing.household_update(actor=outsider, child=a1, changes={"aid": "dibao"})
    assert Household.objects.get(pk=a1.household_id).aid == "none"
    assert not records(a1, "household", "update")


# ================================================================ 2b. adding a family member


def test_adding_a_parent_away_for_work_makes_the_child_left_behind(world: World) -> None:
    child = register(world.director_a, child_data("吴小河", VILLAGE_A), members=only_mother_away())
    assert not child.cat_left_behind_mca and child.cat_left_behind_census
    father = editing.member_add(
        actor=world.director_a,
        child=child,
        member=MemberData(
            name="吴父",
            relation="father",
            is_guardian=True,
            away=True,
            away_place_code=WORK_CITY,
            away_since=dt.date(2024, 3, 1),
            away_reason="work",
            phone="13600136000",
        ),
    )
    child.refresh_from_db()
    assert child.cat_left_behind_mca  # both parents away for work
    [created] = records(child, "familymember", "create")[-1:]
    assert created.object_id == str(father.pk)
    assert created.actor_id == world.director_a.pk
    assert created.changes["relation"] == [None, "father"]
    assert created.changes["away_place"] == [None, WORK_CITY]
    assert created.changes["phone_enc"] == [None, ENC]
    assert "13600136000" not in str(created.changes)
    assert records(child, "child", "update")[-1].changes["cat_left_behind_mca"] == [False, True]


def test_adding_a_member_validates_as_registration_does(world: World) -> None:
    child = register(world.director_a, child_data("吴小河", VILLAGE_A), members=only_mother_away())
    before = child.household.members.count()
    with pytest.raises(ValidationError) as err:
        editing.member_add(
            actor=world.director_a,
            child=child,
            member=MemberData(name="", relation="uncle", away=True, phone="12"),
        )
    assert {"name", "relation", "away_since", "phone"} <= set(err.value.message_dict)
    with pytest.raises(ValidationError) as err:  # a second mother
        editing.member_add(
            actor=world.director_a,
            child=child,
            member=MemberData(name="另一位母亲", relation="mother"),
        )
    assert "relation" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        editing.member_add(
            actor=world.director_b,
            child=child,
            member=MemberData(name="舅舅", relation="other_relative"),
        )
    assert child.household.members.count() == before


# ================================================================ 2c. delegated care


def test_delegated_care_is_set_then_updated_with_history(world: World) -> None:
    a1 = world.children["a1"]
    grandma = member(a1, "paternal_grandmother")
    care = editing.delegated_care_set(
        actor=world.director_a,
        child=a1,
        carer_id=grandma.pk,
        no_abuse_record=True,
        notice_to_school_on=dt.date(2024, 2, 10),
    )
    assert care.carer == grandma and care.no_abuse_record and not care.eligible
    [created] = records(a1, "delegatedcare", "create")
    assert created.actor_id == world.director_a.pk
    assert created.changes["carer"] == [None, grandma.pk]
    assert created.changes["notice_to_school_on"] == [None, "2024-02-10"]
    editing.delegated_care_set(
        actor=world.director_a,
        child=a1,
        carer_id=grandma.pk,
        no_abuse_record=True,
        no_drugs_alcohol_gambling=True,
        no_neglect_history=True,
        capable_adult=True,
        notice_to_school_on=dt.date(2024, 2, 10),
        notice_to_village_on=dt.date(2024, 2, 11),
        confirmation_signed_on=dt.date(2024, 2, 12),
    )
    care.refresh_from_db()
    assert care.eligible and DelegatedCare.objects.filter(household=a1.household).count() == 1
    [updated] = records(a1, "delegatedcare", "update")
    assert updated.changes == {
        "no_drugs_alcohol_gambling": [False, True],
        "no_neglect_history": [False, True],
        "capable_adult": [False, True],
        "notice_to_village_on": [None, "2024-02-11"],
        "confirmation_signed_on": [None, "2024-02-12"],
    }


def test_delegated_carer_must_be_a_non_parent_of_the_family(world: World) -> None:
    a1 = world.children["a1"]
    stranger = member(world.children["b1"], "paternal_grandmother")
    for carer_id, field in [
        (None, "carer"),
        (member(a1, "father").pk, "carer"),
        (stranger.pk, "carer"),
    ]:
        with pytest.raises(ValidationError) as err:
            editing.delegated_care_set(actor=world.director_a, child=a1, carer_id=carer_id)
        assert field in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        editing.delegated_care_set(
            actor=world.director_a,
            child=a1,
            carer_id=member(a1, "paternal_grandmother").pk,
            confirmation_signed_on=clock.today() + dt.timedelta(days=1),
        )
    assert "confirmation_signed_on" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        editing.delegated_care_set(
            actor=world.teacher_a, child=a1, carer_id=member(a1, "paternal_grandmother").pk
        )
    assert not DelegatedCare.objects.filter(household=a1.household).exists()


# ================================================================ 2d. consent and legal basis


def test_withdrawing_consent_is_validated_and_recorded(world: World) -> None:
    a1 = world.children["a1"]
    consent = child_consents.consent_record(
        actor=world.director_a,
        child=a1,
        given_by=member(a1, "father"),
        given_on=dt.date(2026, 11, 1),
        version="2026-1",
        scopes=["registry"],
    )
    with pytest.raises(ValidationError) as err:
        child_consents.consent_withdraw(
            actor=world.director_a, consent=consent, on=dt.date(2026, 10, 1)
        )
    assert "withdrawn_on" in err.value.message_dict
    child_consents.consent_withdraw(
        actor=world.director_a, consent=consent, on=dt.date(2026, 11, 20)
    )
    [withdrawn] = records(a1, "consent", "update")
    assert withdrawn.changes == {"withdrawn_on": [None, "2026-11-20"]}
    assert withdrawn.actor_id == world.director_a.pk
    with pytest.raises(ValidationError) as err:
        child_consents.consent_withdraw(actor=world.director_a, consent=consent)
    assert "withdrawn_on" in err.value.message_dict
    consent.refresh_from_db()
    assert consent.withdrawn_on == dt.date(2026, 11, 20)


def test_replacing_a_legal_basis_records_before_and_after(world: World) -> None:
    a1 = world.children["a1"]
    child_consents.processing_basis_record(
        actor=world.director_a, child=a1, purpose="sharing", basis="statutory_duty", note="摸排"
    )
    child_consents.processing_basis_record(
        actor=world.director_a, child=a1, purpose="sharing", basis="vital_interest", note="急"
    )
    [update] = records(a1, "processingbasis", "update")
    assert update.changes == {
        "purpose": ["sharing", "sharing"],
        "basis": ["statutory_duty", "vital_interest"],
        "note": ["摸排", "急"],
    }


# ================================================================ pages: who may open them


def page_urls(world: World) -> list[str]:
    a1 = world.children["a1"]
    consent = child_consents.consent_record(
        actor=world.director_a,
        child=a1,
        given_by=member(a1, "father"),
        given_on=dt.date(2026, 11, 1),
        version="2026-1",
        scopes=["registry"],
    )
    return [
        reverse("children:household_edit", args=[a1.pk]),
        reverse("children:member_new", args=[a1.pk]),
        reverse("children:care_edit", args=[a1.pk]),
        reverse("children:consent_new", args=[a1.pk]),
        reverse("children:consent_withdraw", args=[a1.pk, consent.pk]),
        reverse("children:basis_new", args=[a1.pk]),
    ]


def test_every_new_page_is_404_outside_scope_and_403_for_non_editors(
    client: Client, world: World
) -> None:
    urls = page_urls(world)
    before = ChangeRecord.objects.count()
    login = reverse("accounts:login")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    client.force_login(world.director_b)  # another village
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"aid": "dibao", "carer": "1"}).status_code == 404, url
    client.force_login(world.teacher_a)  # sees the pupil, may not edit the registration
    consents = {u for u in urls if "/consents/" in u}  # a referrer records consent they got
    for url in urls:
        if url in consents:
            assert client.get(url).status_code == 200, url
            continue
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"aid": "dibao"}).status_code == 403, url
    client.force_login(world.volunteer)  # neither registers nor refers
    for url in consents:
        assert client.get(url).status_code in (403, 404), url
    assert ChangeRecord.objects.count() == before
    client.force_login(world.director_a)
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'class="grid"' in page.content.decode()  # the phone-first layout of edit pages
    # A consent of another child is not reachable through this child's URL.
    b1 = world.children["b1"]
    other = child_consents.consent_record(
        actor=world.director_b,
        child=b1,
        given_by=member(b1, "father"),
        given_on=dt.date(2026, 11, 1),
        version="v",
        scopes=["registry"],
    )
    a1 = world.children["a1"]
    assert (
        client.get(reverse("children:consent_withdraw", args=[a1.pk, other.pk])).status_code == 404
    )


def test_edit_page_links_to_every_part_of_the_file(client: Client, world: World) -> None:
    urls = page_urls(world)
    a1 = world.children["a1"]
    client.force_login(world.director_a)
    html = client.get(reverse("children:edit", args=[a1.pk])).content.decode()
    for url in urls:
        assert f'href="{url}"' in html, url
    for m in a1.household.members.all():
        assert reverse("children:member_edit", args=[a1.pk, m.pk]) in html


# ================================================================ pages: household


def household_form(**overrides: str) -> dict[str, str]:
    return {"address": "", "aid": "none", "income_source": "", **overrides}


def test_household_page_saves_recomputes_and_keeps_the_masked_address(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"]
    url = reverse("children:household_edit", args=[a1.pk])
    client.force_login(world.director_a)
    response = client.post(url, household_form(aid="dibao", address="全山村 3 组"))
    assert response.status_code == 302
    assert response["Location"] == reverse("children:detail", args=[a1.pk])
    a1.refresh_from_db()
    assert a1.cat_difficulty_poverty
    [record] = records(a1, "household", "update")
    assert record.actor_id == world.director_a.pk and record.changes["aid"] == ["none", "dibao"]
    html = client.get(url).content.decode()
    assert "全山村 3 组" not in html and 'value="***"' in html
    assert client.post(url, household_form(aid="dibao", address="***")).status_code == 302
    assert protect.unseal(Household.objects.get(pk=a1.household_id).address_enc) == "全山村 3 组"
    assert len(records(a1, "household", "update")) == 1  # nothing changed, nothing recorded


def test_two_people_on_the_same_family_the_second_save_is_refused_and_kept(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"]
    url = reverse("children:household_edit", args=[a1.pk])
    client.force_login(world.director_a)
    read = Household.objects.get(pk=a1.household_id).version
    first = client.post(url, household_form(aid="dibao", version=str(read)))
    assert first.status_code == 302
    second = client.post(url, household_form(aid="none", income_source="务农", version=str(read)))
    assert second.status_code == 200 and second.context["form"].non_field_errors()
    assert 'value="务农"' in second.content.decode()  # what was typed is still in the form
    home = Household.objects.get(pk=a1.household_id)
    assert (home.aid, home.income_source, home.version) == ("dibao", "", read + 1)
    care = reverse("children:care_edit", args=[a1.pk])
    grandmother = home.members.get(relation="paternal_grandmother")
    stale = client.post(care, {"carer": str(grandmother.pk), "version": str(read)})
    assert stale.status_code == 200 and stale.context["form"].non_field_errors()
    fresh = client.post(care, {"carer": str(grandmother.pk), "version": str(read + 1)})
    assert fresh.status_code == 302
    assert Household.objects.get(pk=a1.household_id).version == read + 2


def test_household_page_shows_field_errors(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    in_english(client).force_login(world.director_a)
    url = reverse("children:household_edit", args=[a1.pk])
    response = client.post(url, household_form(aid="rich", income_source="x" * 300))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"aid", "income_source"}
    assert Household.objects.get(pk=a1.household_id).aid == "none"


# ================================================================ pages: family member


def member_form(**overrides: str) -> dict[str, str]:
    data = {
        "relation": "father",
        "name": "吴父",
        "is_guardian": "on",
        "capacity": "able",
        "away": "on",
        "away_place_code": "杭州 西湖",
        "away_since": "2024-03-01",
        "away_reason": "work",
        "workplace": "",
        "phone": "",
    }
    data.update(overrides)
    return data


def test_member_page_adds_a_parent_and_recomputes(client: Client, world: World) -> None:
    child = register(world.director_a, child_data("吴小河", VILLAGE_A), members=only_mother_away())
    client.force_login(world.director_a)
    url = reverse("children:member_new", args=[child.pk])
    assert '<datalist id="work-places">' in client.get(url).content.decode()
    response = client.post(url, member_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    father = member(child, "father")
    assert father.away_place_id == WORK_CITY  # typed by name, as at registration
    child.refresh_from_db()
    assert child.cat_left_behind_mca
    [created] = [
        r for r in records(child, "familymember", "create") if r.object_id == str(father.pk)
    ]
    assert created.actor_id == world.director_a.pk


def test_member_page_shows_field_errors(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    in_english(client).force_login(world.director_a)
    url = reverse("children:member_new", args=[a1.pk])
    before = FamilyMember.objects.count()
    response = client.post(url, member_form(relation="other_relative", away_since=""))
    assert response.status_code == 200
    assert "since when" in " ".join(response.context["form"].errors["away_since"])
    response = client.post(url, member_form())  # a1 already has a father
    assert "already has a father" in " ".join(response.context["form"].errors["relation"])
    assert FamilyMember.objects.count() == before


# ================================================================ pages: delegated care


def care_form(carer: int | str, **overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "carer": str(carer),
        "no_abuse_record": "on",
        "no_drugs_alcohol_gambling": "on",
        "no_neglect_history": "on",
        "capable_adult": "on",
        "notice_to_school_on": "2024-02-10",
        "notice_to_village_on": "2024-02-10",
        "confirmation_signed_on": "2024-02-12",
    }
    data.update(overrides)
    return data


def test_care_page_records_and_updates_delegated_care(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    grandma = member(a1, "paternal_grandmother")
    client.force_login(world.director_a)
    url = reverse("children:care_edit", args=[a1.pk])
    assert client.post(url, care_form(grandma.pk, capable_adult="")).status_code == 302
    care = DelegatedCare.objects.get(household=a1.household)
    assert care.carer == grandma and not care.capable_adult
    page = client.get(url)
    assert page.context["form"].initial["carer"] == grandma.pk  # the record comes back in
    assert client.post(url, care_form(grandma.pk)).status_code == 302
    care.refresh_from_db()
    assert care.eligible
    [update] = records(a1, "delegatedcare", "update")
    assert update.changes == {"capable_adult": [False, True]}
    assert update.actor_id == world.director_a.pk


def test_care_page_shows_field_errors(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    in_english(client).force_login(world.director_a)
    url = reverse("children:care_edit", args=[a1.pk])
    response = client.post(url, care_form(member(a1, "father").pk))
    assert response.status_code == 200
    assert "parent" in " ".join(response.context["form"].errors["carer"])
    stranger = member(world.children["b1"], "paternal_grandmother")
    response = client.post(url, care_form(stranger.pk))  # not offered: not of this family
    assert response.context["form"].errors["carer"]
    future = (clock.today() + dt.timedelta(days=3)).isoformat()
    grandma = member(a1, "paternal_grandmother")
    response = client.post(url, care_form(grandma.pk, confirmation_signed_on=future))
    assert "future" in " ".join(response.context["form"].errors["confirmation_signed_on"])
    assert not DelegatedCare.objects.filter(household=a1.household).exists()


# ================================================================ pages: consent, legal basis


def test_consent_pages_record_and_withdraw(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    father = member(a1, "father")
    client.force_login(world.director_a)
    url = reverse("children:consent_new", args=[a1.pk])
    page = client.get(url)
    offered = [value for value, _label in page.context["form"].fields["given_by"].choices]
    assert father.pk in offered and member(a1, "paternal_grandmother").pk not in offered
    data = {
        "given_by": str(father.pk),
        "given_on": "2026-11-01",
        "version": "2026-1",
        "scopes": ["registry", "sharing"],
    }
    assert client.post(url, data).status_code == 302
    consent = Consent.objects.get(child=a1)
    assert sorted(consent.scopes) == ["registry", "sharing"]
    assert child_consents.sharing_allowed(a1)
    [created] = records(a1, "consent", "create")
    assert created.actor_id == world.director_a.pk
    withdraw = reverse("children:consent_withdraw", args=[a1.pk, consent.pk])
    assert "2026-1" in client.get(withdraw).content.decode()
    assert client.post(withdraw, {"withdrawn_on": "2026-11-20"}).status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_on == dt.date(2026, 11, 20)
    assert not child_consents.sharing_allowed(a1)
    assert records(a1, "consent", "update")[0].changes == {"withdrawn_on": [None, "2026-11-20"]}


def test_consent_pages_show_field_errors(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    in_english(client).force_login(world.director_a)
    url = reverse("children:consent_new", args=[a1.pk])
    grandma = member(a1, "paternal_grandmother")  # not a guardian
    response = client.post(url, {"given_by": str(grandma.pk), "given_on": "", "version": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"given_by", "given_on", "version", "scopes"}
    future = (clock.today() + dt.timedelta(days=2)).isoformat()
    data = {
        "given_by": str(member(a1, "father").pk),
        "given_on": future,
        "version": "v1",
        "scopes": ["registry"],
    }
    response = client.post(url, data)
    assert "future" in " ".join(response.context["form"].errors["given_on"])
    assert not Consent.objects.filter(child=a1).exists()
    consent = child_consents.consent_record(
        actor=world.director_a,
        child=a1,
        given_by=member(a1, "father"),
        given_on=dt.date(2026, 11, 1),
        version="v1",
        scopes=["registry"],
    )
    withdraw = reverse("children:consent_withdraw", args=[a1.pk, consent.pk])
    response = client.post(withdraw, {"withdrawn_on": "2026-10-01"})
    assert response.status_code == 200
    assert "before it was given" in " ".join(response.context["form"].errors["withdrawn_on"])
    consent.refresh_from_db()
    assert consent.withdrawn_on is None


def test_legal_basis_page(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    in_english(client).force_login(world.director_a)
    url = reverse("children:basis_new", args=[a1.pk])
    response = client.post(url, {"purpose": "sharing", "basis": "statutory_duty", "note": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["note"]
    response = client.post(url, {"purpose": "spying", "basis": "consent", "note": ""})
    assert set(response.context["form"].errors) == {"purpose"}
    assert not ProcessingBasis.objects.filter(child=a1).exists()
    data = {"purpose": "sharing", "basis": "statutory_duty", "note": "民发〔2024〕17号"}
    assert client.post(url, data).status_code == 302
    assert child_consents.sharing_allowed(a1)
    [created] = records(a1, "processingbasis", "create")
    assert created.actor_id == world.director_a.pk
    assert created.changes["basis"] == [None, "statutory_duty"]


def test_delegated_care_checklist_in_the_history_is_masked_below_sensitive(
    client: Client, world: World
) -> None:
    """The Art. 22 checklist speaks of the carer's past (sensitive, as on the file itself):
    a teacher reading the change history sees who the carer is, not that the checklist
    changed."""
    a1 = world.children["a1"]
    editing.delegated_care_set(
        actor=world.director_a,
        child=a1,
        carer_id=member(a1, "paternal_grandmother").pk,
        no_abuse_record=True,
    )
    in_english(client).force_login(world.teacher_a)
    response = client.get(reverse("children:detail", args=[a1.pk]))
    [care] = [h for h in response.context["history"] if "delegated care" in h["what"]]
    assert [label for label, *_ in care["changes"]] == ["carer"]
