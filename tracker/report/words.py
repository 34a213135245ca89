"""The word-level edit of one description into another, for the report's <del>/<ins> highlight."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from tracker.report.views import Token

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def word_tokens(old: str, new: str) -> tuple[Token, ...]:
    """Word-level edit of `old` into `new`, for the <del>/<ins> highlight.

    Words, whitespace runs and punctuation marks are tokens of their own: the joined `same` and
    `ins` tokens give back `new` exactly, `same` and `del` give back `old`, and a comma that
    moves does not make its whole word look replaced.
    """
    a = _TOKEN.findall(old)
    b = _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    tokens: list[Token] = []

    def emit(op: str, parts: Sequence[str]) -> None:
        text = "".join(parts)
        if not text:
            return
        if tokens and tokens[-1].op == op:
            tokens[-1] = Token(op, tokens[-1].text + text)
        else:
            tokens.append(Token(op, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("same", a[i1:i2])
        else:
            emit("del", a[i1:i2])
            emit("ins", b[j1:j2])
    return tuple(tokens)
