"""Interval subtraction shared by the ASR's gap filling and the diarizer's overlap removal."""

from __future__ import annotations

from models.intervals import minus


def test_holes_cut_spans_into_the_pieces_left() -> None:
    assert minus([(0.0, 10.0)], [(2.0, 3.0), (5.0, 6.0)], 0.1) == [(0.0, 2.0), (3.0, 5.0), (6.0, 10.0)]
    # holes that overlap one another (words widened by a margin) and reach past the span's ends
    assert minus([(1.0, 9.0)], [(0.0, 2.0), (1.5, 4.0), (3.9, 5.0), (8.5, 12.0)], 0.1) == [(5.0, 8.5)]
    # several spans, holes between and across them
    assert minus([(0.0, 2.0), (4.0, 6.0)], [(1.0, 5.0)], 0.1) == [(0.0, 1.0), (5.0, 6.0)]


def test_pieces_under_the_minimum_are_dropped_and_nothing_left_is_empty() -> None:
    assert minus([(0.0, 10.0)], [(0.05, 9.0)], 0.1) == [(9.0, 10.0)]  # 0.05 s before the hole: too short
    assert minus([(0.0, 10.0)], [(0.05, 9.0)], 0.01) == [(0.0, 0.05), (9.0, 10.0)]
    assert minus([(0.0, 1.0)], [(0.0, 1.0)], 0.1) == []
    assert minus([(0.0, 1.0)], [], 0.1) == [(0.0, 1.0)]  # no holes: the span as it is
    assert minus([], [(0.0, 1.0)], 0.1) == []
    # near-miss: a hole touching the span's end at one point removes nothing
    assert minus([(0.0, 1.0)], [(1.0, 2.0)], 0.1) == [(0.0, 1.0)]
