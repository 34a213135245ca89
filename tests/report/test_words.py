"""The word-level edit behind the description highlight (`tracker.report.words`)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from tracker.report.views import Token
from tracker.report.words import word_tokens

PIECES = ["per", "kit", "mg", "10", ",", " ", "  ", "(a)", "Per"]


@given(st.lists(st.sampled_from(PIECES)), st.lists(st.sampled_from(PIECES)))
def test_word_tokens_rebuild_both_sides(old_words: list[str], new_words: list[str]) -> None:
    old, new = "".join(old_words), "".join(new_words)
    tokens = word_tokens(old, new)
    assert "".join(t.text for t in tokens if t.op != "ins") == old
    assert "".join(t.text for t in tokens if t.op != "del") == new
    assert all(t.text for t in tokens)
    # Runs of one kind are merged, so a highlight is one <del> or <ins>, not a word each.
    assert all(a.op != b.op for a, b in pairwise(tokens))


def test_a_changed_number_is_the_only_edit() -> None:
    assert word_tokens("Injection, 10 mg", "Injection, 20 mg") == (
        Token("same", "Injection, "),
        Token("del", "10"),
        Token("ins", "20"),
        Token("same", " mg"),
    )


def test_a_moved_comma_leaves_its_word_alone() -> None:
    assert word_tokens("Kit, small", "Kit small,") == (
        Token("same", "Kit"),
        Token("del", ","),
        Token("same", " small"),
        Token("ins", ","),
    )


def test_identical_and_empty_text() -> None:
    assert word_tokens("Seat lift", "Seat lift") == (Token("same", "Seat lift"),)
    assert word_tokens("", "") == ()
    assert word_tokens("", "New") == (Token("ins", "New"),)
