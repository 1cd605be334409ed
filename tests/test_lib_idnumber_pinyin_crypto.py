from __future__ import annotations

import datetime as dt

import pytest

from shouhu.lib import crypto, idnumber, pinyin


class TestIdNumber:
    def test_valid_number_gives_birth_date_and_sex(self) -> None:
        facts = idnumber.parse("11010519491231002X")
        assert facts.birth_date == dt.date(1949, 12, 31)
        assert facts.sex == "F"

    def test_lower_case_x_and_spaces_are_normalised(self) -> None:
        assert idnumber.parse(" 11010519491231002x ").number == "11010519491231002X"

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("110105194912310020", "checksum"),
            ("1101051949123100", "length"),
            ("110105194913310021", "component"),
        ],
    )
    def test_invalid_numbers_say_why(self, value: str, code: str) -> None:
        with pytest.raises(idnumber.IdNumberError) as err:
            idnumber.parse(value)
        assert err.value.code == code

    def test_cross_check_with_birth_date_and_sex(self) -> None:
        with pytest.raises(idnumber.IdNumberError) as err:
            idnumber.check_against("11010519491231002X", birth_date=dt.date(1949, 12, 30), sex="F")
        assert err.value.code == "birth_date_mismatch"
        with pytest.raises(idnumber.IdNumberError) as err:
            idnumber.check_against("11010519491231002X", birth_date=dt.date(1949, 12, 31), sex="M")
        assert err.value.code == "sex_mismatch"

    def test_masking_shows_four_and_four(self) -> None:
        assert idnumber.mask("341524201503010015") == "3415**********0015"
        assert idnumber.mask_phone("13812345678") == "138****5678"


class TestPinyin:
    def test_full_and_initials(self) -> None:
        assert pinyin.name_keys("张伟") == ("zhangwei", "zw")
        assert pinyin.name_keys("欧阳娜娜") == ("ouyangnana", "oynn")

    def test_query_key_drops_spaces_and_case(self) -> None:
        assert pinyin.query_key("Zhang Wei") == "zhangwei"


class TestCrypto:
    def test_round_trip_and_random_nonce(self) -> None:
        a = crypto.encrypt("13800138000", master="k" * 40)
        b = crypto.encrypt("13800138000", master="k" * 40)
        assert a != b and "13800138000" not in a
        assert crypto.decrypt(a, master="k" * 40) == "13800138000"

    def test_wrong_key_fails_loudly(self) -> None:
        token = crypto.encrypt("secret", master="k" * 40)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(token, master="j" * 40)

    def test_keyed_hash_is_deterministic_keyed_and_purpose_separated(self) -> None:
        h = crypto.keyed_hash("x", master="k" * 40, purpose="id")
        assert h == crypto.keyed_hash("x", master="k" * 40, purpose="id")
        assert h != crypto.keyed_hash("x", master="j" * 40, purpose="id")
        assert h != crypto.keyed_hash("x", master="k" * 40, purpose="phone")
