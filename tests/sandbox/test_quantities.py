"""Resource quantities as bytes: fixed cases and properties of the parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.sandbox import quantities

BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1Gi", 1 << 30),
        ("500Mi", 500 << 20),
        ("1.5Gi", 3 << 29),
        ("10G", 10**10),
        ("1000", 1000),
        ("2e3", 2000),
        ("2E-1", 1),  # a fraction of a byte rounds up
        ("1500m", 2),
        (".5Ki", 512),
        ("+7", 7),
        ("-1Ki", -1024),
    ],
)
def test_known_quantities(text: str, expected: int) -> None:
    assert quantities.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "Gi", "1 Gi", "1gi", "1GiB", "1.2.3", "1e", "0x10", "1Ki1", "1e99", "9" * 70]
)
def test_what_is_not_a_quantity(text: str) -> None:
    assert quantities.parse(text) is None


@given(st.integers(0, 10**6), st.sampled_from(sorted(BINARY)))
def test_binary_suffixes_multiply_by_powers_of_1024(number: int, suffix: str) -> None:
    assert quantities.parse(f"{number}{suffix}") == number * BINARY[suffix]


@given(st.integers(0, 10**6), st.sampled_from(sorted(DECIMAL)))
def test_decimal_suffixes_and_exponents_agree(number: int, suffix: str) -> None:
    exponent = len(str(DECIMAL[suffix])) - 1
    assert quantities.parse(f"{number}{suffix}") == number * DECIMAL[suffix]
    assert quantities.parse(f"{number}e{exponent}") == number * DECIMAL[suffix]


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_fractions_round_up_to_whole_bytes(value: object) -> None:
    text = format(value, "f")
    parsed = quantities.parse(text)
    assert parsed is not None and parsed - 1 < float(text) <= parsed


@given(st.text(max_size=12))
def test_never_raises(text: str) -> None:
    result = quantities.parse(text)
    assert result is None or isinstance(result, int)
