"""make bench: its plan and its growth exponent (the figures themselves are measurements,
never asserted)."""

from __future__ import annotations

import math

from analysis.bench import QUICK_SIZES, REFERENCE_FLOOR, growth_exponent, plan


def test_the_growth_exponent_of_a_power_law_is_its_power_with_an_interval():
    sizes = [25, 50, 100, 200, 400]
    slope, low, high = growth_exponent(sizes, [0.01 * n ** 1.0 for n in sizes])
    assert math.isclose(slope, 1.0) and low <= 1.0 <= high
    noisy = [0.002 * n ** 0.8 * f for n, f in zip(sizes, [1.1, 0.9, 1.05, 0.95, 1.0])]
    slope, low, high = growth_exponent(sizes, noisy)
    assert low < 0.8 < high and abs(slope - 0.8) < 0.1


def test_the_quick_bench_fits_five_sizes_and_plans_at_most_90_seconds():
    assert len(QUICK_SIZES) >= 5
    assert sum(step.expected_f for step in plan(full=False)) * REFERENCE_FLOOR <= 90
    assert len(plan(full=True)) > len(plan(full=False))
