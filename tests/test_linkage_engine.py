"""The linkage engine on small files: each Chinese comparison, twins, common names, and one
home record per destination record. The files are too small to train on, so the model's
priors score them (as `shouhu link files` does for small files)."""

from __future__ import annotations

import pandas as pd
import pytest
from stdnum.cn import ric

from shouhu.linkage import chinese, engine, features
from shouhu.linkage.files import COLUMNS

FAMILY = {
    "hukou_place": "341524",
    "residence_place": "341524100201",
    "father_name": "张建国",
    "mother_name": "李秀英",
    "guardian_phone": "13812345678",
}


def valid_id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


ID_ZIHAN = valid_id("34152420130502002")  # female, 2013-05-02


def record(record_id: str, **fields: str) -> dict[str, str | None]:
    row: dict[str, str | None] = dict.fromkeys(COLUMNS)
    row["record_id"] = record_id
    row.update(fields)
    return row


def frame(*rows: dict[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(COLUMNS), dtype=object)


def child(record_id: str, **fields: str) -> dict[str, str | None]:
    """A girl, 张子涵, born 2013-05-02, of the FAMILY household; fields override."""
    base = {"name": "张子涵", "sex": "F", "birth_date": "2013-05-02", **FAMILY}
    return record(record_id, **{**base, **fields})


def links(left: pd.DataFrame, right: pd.DataFrame) -> set[tuple[str, str]]:
    found = engine.link(left, right, options=engine.Options(train=False))
    assert list(found.columns) == ["left_id", "right_id", "match_probability"]
    return set(zip(found["left_id"], found["right_id"], strict=True))


def gamma(left: dict[str, str | None], right: dict[str, str | None], comparison: str) -> int:
    pairs = engine.compare(frame(left), frame(right), options=engine.Options(train=False))
    assert len(pairs) == 1, pairs
    return int(pairs[f"gamma_{comparison}"].iloc[0])


# Names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pinyin"),
    [
        ("曾伟", "zengwei"),
        ("单丽", "shanli"),
        ("解明", "xieming"),
        ("仇杰", "qiujie"),
        ("区敏", "oumin"),
        ("查文", "zhawen"),
        ("朴娜", "piaona"),
        ("尉迟恭", "yuchigong"),
    ],
)
def test_heteronym_surnames_are_read_as_surnames(name, pinyin):
    keys = chinese.name_keys(name)
    assert keys is not None
    assert keys.pinyin == pinyin


def test_a_pinyin_only_name_links_to_its_characters_with_the_surname_reading():
    left = frame(child("L1", name="曾子涵"), child("L2", name="程子涵", birth_date="2013-05-09"))
    right = frame(child("R1", name="ZENG Zihan", guardian_phone=""))
    assert links(left, right) == {("L1", "R1")}
    assert gamma(child("L1", name="单丽"), child("R1", name="Shan Li"), "name") == 4


def test_traditional_characters_are_the_same_name():
    assert chinese.name_keys("張子涵").norm == "张子涵"  # type: ignore[union-attr]
    assert gamma(child("L1"), child("R1", name="張子涵"), "name") == 5


def test_homophones_and_look_alikes_are_near_matches():
    assert gamma(child("L1", name="王静"), child("R1", name="王靖"), "name") == 4
    assert gamma(child("L1", name="李己"), child("R1", name="李已"), "name") == 2
    assert gamma(child("L1", name="王未"), child("R1", name="王末"), "name") == 2
    assert gamma(child("L1", name="张子涵"), child("R1", name="张涵子"), "name") == 3
    assert gamma(child("L1", name="张子涵"), child("R1", name="张涵"), "name") == 3


# Dates ---------------------------------------------------------------------------------------


def test_a_lunar_birthday_recorded_as_solar_agrees():
    keys = chinese.date_keys(2012, 3, 15)
    assert keys.lunar_as_solar == "2012-02-23"
    assert chinese.lunar_to_solar(2012, 2, 23).isoformat() == "2012-03-15"
    assert gamma(child("L1", birth_date="2012-03-15"), child("R1", birth_date="2012-02-23"), "birth_date") == 3  # fmt: skip


def test_swapped_day_and_month_and_year_only_agree_less():
    assert gamma(child("L1", birth_date="2013-05-02"), child("R1", birth_date="2013-02-05"), "birth_date") == 4  # fmt: skip
    assert gamma(child("L1"), child("R1", birth_date="2013"), "birth_date") == 2
    assert gamma(child("L1"), child("R1", birth_date="2014"), "birth_date") == 0
    assert gamma(child("L1"), child("R1", birth_date="2013-05-02"), "birth_date") == 5


def test_a_record_with_only_the_year_still_links():
    left = frame(child("L1"), child("L2", name="王晓明", sex="M", birth_date="2012-08-09"))
    right = frame(child("R1", birth_date="2013", guardian_phone=""))
    assert links(left, right) == {("L1", "R1")}


# ID numbers ----------------------------------------------------------------------------------


def test_id_numbers_one_digit_wrong_or_two_swapped_are_near_matches():
    typo = ID_ZIHAN[:8] + ("3" if ID_ZIHAN[8] != "3" else "4") + ID_ZIHAN[9:]
    swapped = ID_ZIHAN[:12] + ID_ZIHAN[13] + ID_ZIHAN[12] + ID_ZIHAN[14:]
    assert not ric.is_valid(typo)
    assert not ric.is_valid(swapped)
    left = child("L1", id_number=ID_ZIHAN)
    assert gamma(left, child("R1", id_number=ID_ZIHAN), "id_number") == 3
    assert gamma(left, child("R1", id_number=typo), "id_number") == 1
    assert gamma(left, child("R1", id_number=swapped), "id_number") == 1


def test_an_id_number_is_cross_checked_with_birth_date_and_sex():
    ids = chinese.id_keys(ID_ZIHAN)
    assert ids is not None and ids.valid and ids.sex == "F"
    assert ids.birth_date == "2013-05-02"
    lunar = chinese.date_keys(2013, 3, 23)
    assert chinese.id_agrees(ids, birth=lunar, sex="F")
    assert not chinese.id_agrees(ids, birth=lunar, sex="M")
    assert not chinese.id_agrees(ids, birth=chinese.date_keys(1985, 1, 1), sex="F")
    # The same number in a record whose sex disagrees is weaker evidence.
    assert gamma(child("L1", id_number=ID_ZIHAN), child("R1", id_number=ID_ZIHAN, sex="M"), "id_number") == 2  # fmt: skip


def test_a_missing_birth_date_and_sex_are_read_from_the_id_number():
    row = features.chinese_features(frame(child("R1", id_number=ID_ZIHAN, birth_date="", sex="")))
    assert row["dob"].iloc[0] == "2013-05-02"
    assert row["sex"].iloc[0] == "F"
    assert gamma(child("L1"), child("R1", id_number=ID_ZIHAN, birth_date="", sex=""), "birth_date") == 5  # fmt: skip


# Families, common names, one link per destination record -------------------------------------


def test_twins_are_not_merged():
    twin_a, twin_b = child("L1", name="张子涵"), child("L2", name="张子轩")
    assert links(frame(twin_a, twin_b), frame(child("R1", name="张子轩"))) == {("L2", "R1")}
    # Only one twin at home, the other at the destination: no link at all.
    assert links(frame(twin_a), frame(child("R1", name="张子轩"))) == set()


def test_a_common_name_counts_for_less_than_a_rare_one():
    others = [
        record(
            f"L{n}", name="张伟", sex="M", birth_date=f"20{10 + n % 8:02d}-0{1 + n % 9}-1{n % 10}"
        )
        for n in range(10, 40)
    ]
    common = record("L1", name="张伟", sex="M", birth_date="2012-03-04")
    rare = record("L2", name="诸葛亮亮", sex="M", birth_date="2012-03-04")
    left = frame(common, rare, *others)
    right = frame(
        record("R1", name="张伟", sex="M", birth_date="2012-03-04"),
        record("R2", name="诸葛亮亮", sex="M", birth_date="2012-03-04"),
        *[
            record(f"R{n}", name="张伟", sex="M", birth_date="2009-12-2" + str(n % 8))
            for n in range(10, 20)
        ],
    )
    pairs = engine.compare(left, right, options=engine.Options(train=False))
    weight = pairs.set_index(["left_id", "right_id"])["match_weight"]
    assert weight[("L1", "R1")] < weight[("L2", "R2")] - 3


def test_each_destination_record_links_to_one_home_record_at_most():
    left = frame(child("L1"), child("L2"), child("L3", name="王晓明", sex="M"))
    right = frame(child("R1"), child("R2", name="王晓明", sex="M"))
    found = engine.link(left, right, options=engine.Options(train=False))
    assert found["right_id"].is_unique
    assert set(found["right_id"]) == {"R1", "R2"}
    assert set(zip(found["left_id"], found["right_id"], strict=True)) >= {("L3", "R2")}


def test_confirmed_pairs_train_the_m_probabilities_and_evidence_comes_with_the_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pairs reviewers confirmed go back to the model (Splink's pairwise labels) when there
    are enough of them: the links still come, each with the comparison levels behind it."""
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
    left = frame(
        *[
            record(
                f"h{i}",
                name=surnames[i] + "小明",
                sex="M",
                birth_date=f"2014-0{1 + i % 9}-1{i % 10}",
                hukou_place="341524",
                residence_place="341524100201",
            )
            for i in range(engine.MIN_LABELS + 5)
        ]
    )
    right = left.copy()
    right["record_id"] = [f"d{i}" for i in range(len(right))]
    right["residence_place"] = "440306017001"
    labels = tuple((f"h{i}", f"d{i}") for i in range(engine.MIN_LABELS))
    learned: list[dict[str, float]] = []
    original = engine._learn_from_labels

    def spy(linker: object, given: tuple[tuple[str, str], ...]) -> None:
        original(linker, given)  # type: ignore[arg-type]
        name = next(c for c in linker._settings_obj.comparisons if c.output_column_name == "name")  # type: ignore[attr-defined]
        levels = [lv for lv in name.comparison_levels if not lv.is_null_level]
        learned.append({lv.label_for_charts: lv.m_probability for lv in levels})

    monkeypatch.setattr(engine, "_learn_from_labels", spy)
    found = engine.link(
        left, right, options=engine.Options(train=False, labels=labels, evidence=True)
    )
    pairs = set(zip(found["left_id"], found["right_id"], strict=True))
    assert pairs == {(f"h{i}", f"d{i}") for i in range(len(left))}
    assert (found["gamma_name"] > 0).all() and (found["gamma_residence_place"] == 0).all()
    # Every confirmed pair has the same characters: m of that level was learned as ~1.
    assert len(learned) == 1 and learned[0]["same characters"] > 0.95
