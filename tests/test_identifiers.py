"""The two check-character validators (GB 11643 and GB 32100) on valid and corrupted numbers."""
import pytest

from verifiers.identifiers import (
    USCC_ALPHABET,
    birth_date_of,
    is_valid_resident_id,
    is_valid_uscc,
    mask_resident_id,
    resident_id_problem,
    uscc_problem,
)

pytestmark = pytest.mark.no_db

# Published examples: the GB 11643 standard's own sample, and real registered companies.
VALID_IDS = ["11010519491231002X", "110105198503140013", "440524188001010014"]
VALID_USCC = ["91350100M000100Y43", "9144030071526726XG", "91330100799655058B", "91110108551385082Q"]


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_resident_ids_pass(value):
    assert is_valid_resident_id(value), resident_id_problem(value)


@pytest.mark.parametrize("value", VALID_IDS)
def test_every_single_digit_change_is_caught(value):
    for i in range(17):
        for d in "0123456789":
            if d == value[i]:
                continue
            corrupted = value[:i] + d + value[i + 1:]
            if is_valid_resident_id(corrupted):
                pytest.fail(f"{corrupted} (position {i}) passed")


def test_resident_id_problems_are_named():
    assert "校验位" in resident_id_problem("110105194912310021")
    assert "出生日期" in resident_id_problem("110105194913310029")
    assert "18位" in resident_id_problem("11010519491231002")
    assert "18位" in resident_id_problem("11010519491231002x1")
    assert birth_date_of("11010519491231002X").isoformat() == "1949-12-31"


@pytest.mark.parametrize("value", VALID_USCC)
def test_valid_uscc_pass(value):
    assert is_valid_uscc(value), uscc_problem(value)


@pytest.mark.parametrize("value", VALID_USCC)
def test_uscc_corruptions_are_caught(value):
    for i in range(17):
        for c in USCC_ALPHABET[:12]:
            if c == value[i]:
                continue
            corrupted = value[:i] + c + value[i + 1:]
            if is_valid_uscc(corrupted):
                pytest.fail(f"{corrupted} (position {i}) passed")


def test_uscc_refuses_letters_outside_the_alphabet():
    # I, O, Z, S, V are not used by GB 32100.
    assert uscc_problem("91350100M000100YO3") is not None
    assert "18位" in uscc_problem("91350100M000100Y4")


def test_masking_keeps_region_and_last_four():
    assert mask_resident_id("11010519491231002X") == "110***********002X"
    assert len(mask_resident_id("11010519491231002X")) == 18
