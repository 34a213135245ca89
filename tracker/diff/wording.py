"""How much two descriptions differ: cosmetic edits, and content-word similarity for reuse.

A description change that is only case, whitespace or punctuation is cosmetic; a long
description rewritten beyond recognition marks a reused code (see `REUSE_SIMILARITY_THRESHOLD`).
"""

from __future__ import annotations

import re

REUSE_SIMILARITY_THRESHOLD = 0.05
"""Content-word similarity of two long descriptions below which a code counts as reused.

Chosen on the real data: every non-cosmetic long-description change between the releases in
`../shared/cms-hcpcs/` (2016 -> 2017 -> 2018 -> 2020-JAN -> APR -> JUL -> OCT, 369 changes;
see `description_similarity`). The codes whose meaning was replaced score 0.00-0.03:
G9637/G9638 2017 -> 2018 (CT dose-reduction reports -> high-risk medication orders), G9890/G9891
2018 -> 2020 (macular exam -> diabetes prevention program payments, added date rewritten) and
the CS modifier 2020-JAN -> APR (Gulf oil spill 2010 -> COVID-19 cost sharing, 0.03: they share
"related"). The heaviest genuine rewordings start at 0.09 (G9607 2016 -> 2017, an exclusion
reworded as "documented medical reasons for not performing intraoperative cystoscopy"), then
Q6 0.13 (locum tenens -> fee-for-time substitute) and G0202 0.16 (screening mammography, digital
-> with CAD). 0.05 sits in the empty gap between the two groups. Counting function words too
would close that gap: shared "of", "the", "or" lift CS to 0.125, next to G0202 at 0.136.
"""

# English function words: shared by any two sentences, so they say nothing about meaning.
STOPWORDS = frozenset(
    (  # noqa: SIM905 (a word list reads better as one string)
        "a an and any are as at be been by e each eg for from g i ie in into is it its no not of"
        " on or other per than that the their this to under was which who with without"
    ).split()
)


_WORD = re.compile(r"[a-z0-9]+")


def _fold(text: str) -> str:
    """Text with case, whitespace and punctuation removed: what a cosmetic edit leaves intact."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def is_cosmetic(old: str, new: str) -> bool:
    """True when two different texts differ only in case, whitespace or punctuation.

    "per 5mg" -> "per 5 mg" is cosmetic (a space inserted); so is "e.g." -> "eg".
    """
    return old != new and _fold(old) == _fold(new)


def description_similarity(old: str, new: str) -> float:
    """Jaccard similarity of the two texts' sets of content words (1.0 when both have none).

    Words are lower-case runs of letters and digits, minus `STOPWORDS`.
    """
    a = set(_WORD.findall(old.lower())) - STOPWORDS
    b = set(_WORD.findall(new.lower())) - STOPWORDS
    union = a | b
    return len(a & b) / len(union) if union else 1.0
