"""Unique visitors: the HyperLogLog's error on known sets, merging, and replays."""

from __future__ import annotations

import hashlib

import pytest

from footfall.stats import sketch


def visitor(n: int, salt: str = "") -> str:
    return hashlib.sha256(f"{salt}{n}".encode()).hexdigest()[:32]


def registers_of(visitors: list[str]):  # type: ignore[no-untyped-def]
    registers = sketch.empty()
    for v in visitors:
        index, rank = sketch.register(v)
        registers[index] = max(registers[index], rank)
    return registers


@pytest.mark.parametrize("n", [1, 10, 1_000, 10_000, 200_000])
@pytest.mark.parametrize("salt", ["a", "b", "c"])
def test_the_estimate_is_within_two_percent_of_the_exact_count(n: int, salt: str) -> None:
    estimate = sketch.estimate(registers_of([visitor(i, salt) for i in range(n)]))
    assert abs(estimate - n) <= max(1, 0.02 * n)


def test_merging_the_registers_of_parts_equals_the_registers_of_the_whole() -> None:
    everyone = [visitor(i) for i in range(30_000)]
    parts = [everyone[i::7] + everyone[:500] for i in range(7)]  # overlapping parts
    merged = sketch.merge(sketch.to_bytes(registers_of(part)) for part in parts)
    assert (merged == registers_of(everyone)).all()


def test_a_visitor_seen_again_changes_nothing() -> None:
    once = registers_of([visitor(i) for i in range(1000)])
    twice = registers_of([visitor(i) for i in range(1000)] * 2)
    assert (once == twice).all()


def test_sparse_and_dense_encodings_read_back_the_same_registers() -> None:
    for n in (5, 50_000):
        registers = registers_of([visitor(i) for i in range(n)])
        data = sketch.to_bytes(registers)
        assert data[:1] == (b"s" if n == 5 else b"d")
        assert (sketch.merge([data]) == registers).all()


def test_no_visitor_estimates_zero() -> None:
    assert sketch.estimate(sketch.empty()) == 0
