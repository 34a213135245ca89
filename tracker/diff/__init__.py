"""What changed between two releases: compare -> typed changes -> (rendered elsewhere).

`model` holds the typed values (kinds, categories, flags, changes, findings, diffs); `compare`
turns two snapshots into them; `wording` measures how far two descriptions differ;
`reconcile` checks the declared action codes against what was observed; `year` strings a
year's releases together. Rendering (JSON, CSV, Markdown, HTML) is never done here.
"""

from tracker.diff.compare import (
    apply_diff,
    compare_fields,
    diff_records,
    diff_snapshots,
    equivalent,
)
from tracker.diff.model import (
    ACTION_NAMES,
    SCHEMA_VERSION,
    Category,
    ChangeKind,
    CodeChange,
    Direction,
    FieldChange,
    Finding,
    Flag,
    ItemChange,
    ReleaseDiff,
    Rule,
    TransientCode,
    YearDiff,
    filter_diff,
    is_action_only,
)
from tracker.diff.reconcile import reconcile
from tracker.diff.wording import REUSE_SIMILARITY_THRESHOLD, description_similarity, is_cosmetic
from tracker.diff.year import diff_year

__all__ = [
    "ACTION_NAMES",
    "REUSE_SIMILARITY_THRESHOLD",
    "SCHEMA_VERSION",
    "Category",
    "ChangeKind",
    "CodeChange",
    "Direction",
    "FieldChange",
    "Finding",
    "Flag",
    "ItemChange",
    "ReleaseDiff",
    "Rule",
    "TransientCode",
    "YearDiff",
    "apply_diff",
    "compare_fields",
    "description_similarity",
    "diff_records",
    "diff_snapshots",
    "diff_year",
    "equivalent",
    "filter_diff",
    "is_action_only",
    "is_cosmetic",
    "reconcile",
]
