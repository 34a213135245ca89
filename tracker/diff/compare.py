"""What changed between two releases, field by field, and whether CMS's action codes say so.

Records are compared through their code set's field table (`CodeSet.fields`: each field's
name, category and whether it is repeated), so this module reads no code set's layout; the
HCPCS-specific decision whether and how to reconcile declared action codes lives in
`tracker.diff.reconcile`.

The diff is built in three passes so that it stays fast on a real release pair (about 7,000
codes, of which a few hundred change):

1. Content hashes decide which codes are added, purged or possibly changed; identical hashes
   mean identical records, so unchanged codes are never decoded for the diff itself.
2. The records whose hash differs are loaded and compared field by field. Scalar fields are
   compared directly; the repeated fields (pricing indicators, references, lab certifications,
   XREFs, types of service) go through one DeepDiff call for all changed records, which reports
   *which slots* of each tuple changed. A DeepDiff over every field of every changed record costs
   about 2 ms a record (1.6 s for 2016 -> 2017), far over budget; the slot-level detail is the
   part worth DeepDiff's generality.
3. When the old release is the one the new release's action codes describe changes since (its
   *reference*, see `tracker.codesets.hcpcs.calendar`), each declared action code is reconciled
   against what was observed (see `reconcile`); otherwise the diff says why not and which
   releases are missing, and reports no findings.

Representation is not change: values that mean the same (anesthesia base units 0 and blank,
processing note 0000 and blank) compare equal, and a blank action effective date (workbooks
omit some that the text file has) is an omission, not a change CMS made. This is decided here,
at comparison time, so the stored records, their hashes and `tracker verify` stay as parsed;
the differences are kept on the side (`CodeChange.representation`,
`ReleaseDiff.representation_only`) so `apply_diff` still rebuilds the new release exactly.

This is the only module that imports deepdiff, so its quirks (path formats, the not-present
sentinel) stay here.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracker.codesets import get_code_set
from tracker.codesets.base import CodeRecord, FieldSpec
from tracker.diff.model import (
    BOOKKEEPING,
    Category,
    ChangeKind,
    CodeChange,
    FieldChange,
    Finding,
    Flag,
    ItemChange,
    ReleaseDiff,
)
from tracker.diff.reconcile import Reference, decide_reconciliation, reconcile
from tracker.diff.wording import REUSE_SIMILARITY_THRESHOLD, description_similarity, is_cosmetic
from tracker.errors import ReleaseError
from tracker.release import ReleaseInfo, Snapshot

if TYPE_CHECKING:
    # The diff's model carries HCPCS records (see `tracker.diff.model`); only for annotations.
    from tracker.codesets.hcpcs.record import Record
    from tracker.codesets.icd10.addenda import Addenda

EarlierRecords = Callable[[Sequence[str]], Mapping[str, tuple[ReleaseInfo, CodeRecord]]]
"""For codes, the last record of each in a stored release before the diff's old one (codes
found in none are left out)."""

# The code set whose fields `diff_records` compares unless told otherwise.
DEFAULT_CODE_SET = "hcpcs"


def equivalent(name: str, old: Any, new: Any) -> bool:
    """Whether two different values of field `name` differ only in how they are written.

    Anesthesia base units 0 and blank both mean "none" (one year writes 0 for modifiers,
    another leaves it blank); processing note 0000 and blank both mean "no note"; a blank
    action effective date is a workbook omitting what the text file has, not CMS changing it.
    """
    if name == "anesthesia_base_units":
        return old in (None, 0) and new in (None, 0)
    if name == "processing_note":
        return old in ("", "0000") and new in ("", "0000")
    if name == "action_effective_date":
        return old is None or new is None
    return False


def diff_records(
    old: Record, new: Record, fields: Sequence[FieldSpec] | None = None
) -> CodeChange | None:
    """The change between two versions of one code, or None when they mean the same.

    `fields` are the code set's (default: HCPCS's).
    """
    if old == new:
        return None
    compared = fields if fields is not None else get_code_set(DEFAULT_CODE_SET).fields
    change = _build_changes([(old, new)], compared)[0]
    return change if change.fields else None


def diff_snapshots(
    old: Snapshot,
    new: Snapshot,
    *,
    reconciling: bool = True,
    stored: Collection[str] | None = None,
    reference: Reference | None = None,
    fields: Sequence[FieldSpec] | None = None,
    declared: Addenda | None = None,
    earlier: EarlierRecords | None = None,
) -> ReleaseDiff:
    """Diff release `old` -> `new`; with `reconciling`, also reconcile `new`'s declared changes.

    HCPCS declares its changes in each record's action code; ICD-10 in the addenda of the new
    release (`declared`, read from its source: see `tracker.codesets.icd10.compare`). A code set
    without end dates (ICD-10) deletes the codes the new release no longer carries (`deleted`,
    where HCPCS's are `purged`), and an added code that a stored release before `old` carried
    with another meaning is flagged reused: `earlier` looks those records up (None: no history
    known).

    The action codes are reconciled only when `old` is their reference
    (`tracker.codesets.hcpcs.calendar`;
    `reference` may be given when already known); otherwise the diff's `reconciliation` says
    why not, naming the releases that are not among `stored` (the labels in the store; None
    when unknown). Reconciliation needs the declared action of every code in `new`, including
    codes whose record did not change (CMS repeats some actions: a stale A is a
    disagreement), so in that mode the unchanged records of `new` are loaded too (except those
    the snapshot already says are declared N, which cannot disagree); they are never compared.
    Records are compared field by field through `fields`, by default those of the snapshots'
    code set.
    """
    if old.info.code_set != new.info.code_set:
        raise ReleaseError(
            f"cannot diff {old.info.display} ({old.info.code_set}) with"
            f" {new.info.display} ({new.info.code_set}): different code sets"
        )
    code_set = get_code_set(new.info.code_set)
    if not code_set.has_end_dates:
        return _diff_by_presence(
            old,
            new,
            fields if fields is not None else code_set.fields,
            reconciling=reconciling,
            stored=stored,
            declared=declared,
            earlier=earlier,
        )
    old_hashes, new_hashes = old.hashes, new.hashes
    added, purged, differing, unchanged = _partition(old_hashes, new_hashes)

    compared = fields if fields is not None else code_set.fields
    decision, every_new = decide_reconciliation(
        old, new, reconciling=reconciling, stored=stored, reference=reference
    )
    consecutive = decision.reconciled
    old_records = old.records(purged + differing)
    new_codes: Iterable[str] = added + differing
    if consecutive:
        # An unchanged record declared N agrees with itself; any other needs checking.
        actions = new.actions
        new_codes = (
            new_hashes
            if actions is None
            else [
                code
                for code, digest in new_hashes.items()
                if actions.get(code) != "N" or old_hashes.get(code) != digest
            ]
        )
    new_records = every_new if every_new is not None else new.records(new_codes)

    changes: list[CodeChange] = [
        CodeChange(code, ChangeKind.ADDED, None, new_records[code]) for code in added
    ]
    changes += [CodeChange(code, ChangeKind.PURGED, old_records[code], None) for code in purged]
    pairs = [(old_records[code], new_records[code]) for code in differing]
    changed, representation_only = _split_changes(pairs, compared)
    changes += changed
    unchanged += len(representation_only)
    changes.sort(key=lambda change: change.code)

    findings: tuple[Finding, ...] = ()
    if consecutive:
        findings = reconcile(old.info, new.info, changes, new_records)
    return ReleaseDiff(
        old=old.info,
        new=new.info,
        changes=tuple(changes),
        unchanged_count=unchanged,
        findings=findings,
        reconciliation=decision,
        representation_only=tuple(representation_only),
    )


def _partition(
    old_hashes: Mapping[str, str], new_hashes: Mapping[str, str]
) -> tuple[list[str], list[str], list[str], int]:
    """Codes added, gone and whose record hash differs (each sorted), and the unchanged count:
    identical hashes are identical records, never decoded."""
    added = sorted(code for code in new_hashes if code not in old_hashes)
    gone = sorted(code for code in old_hashes if code not in new_hashes)
    differing = sorted(
        code for code, digest in new_hashes.items() if old_hashes.get(code, digest) != digest
    )
    return added, gone, differing, len(new_hashes) - len(added) - len(differing)


def _split_changes(
    pairs: Sequence[tuple[Any, Any]], fields: Sequence[FieldSpec]
) -> tuple[list[CodeChange], list[CodeChange]]:
    """The changes of (old, new) pairs known to differ, and those that differ only in
    representation (counted unchanged)."""
    changed: list[CodeChange] = []
    representation_only: list[CodeChange] = []
    for change in _build_changes(pairs, fields):
        (changed if change.fields else representation_only).append(change)
    return changed, representation_only


def _diff_by_presence(
    old: Snapshot,
    new: Snapshot,
    fields: Sequence[FieldSpec],
    *,
    reconciling: bool,
    stored: Collection[str] | None,
    declared: Addenda | None,
    earlier: EarlierRecords | None,
) -> ReleaseDiff:
    """The diff of a code set whose records carry no end date (ICD-10): a code the new release
    no longer carries is `deleted`, one it carries anew is `added` (flagged reused when a
    release before `old` carried it with another meaning, see `earlier`), and the declared
    changes are the new release's addenda, reconciled both ways when `old` is the version they
    describe changes since (`tracker.codesets.icd10.compare`)."""
    from tracker.codesets.icd10.compare import check_declared, decide, reused_changes

    added, deleted, differing, unchanged = _partition(old.hashes, new.hashes)
    old_records = old.records(deleted + differing)
    new_records = new.records(added + differing)
    found_earlier = earlier(added) if earlier is not None and added else {}
    changes: list[CodeChange] = reused_changes([new_records[code] for code in added], found_earlier)
    changes += [CodeChange(code, ChangeKind.DELETED, old_records[code], None) for code in deleted]
    pairs = [(old_records[code], new_records[code]) for code in differing]
    changed, representation_only = _split_changes(pairs, fields)
    changes += changed
    unchanged += len(representation_only)
    changes.sort(key=lambda change: change.code)

    decision = decide(
        old.info, new.info, len(old.hashes), declared, reconciling, stored, len(new.hashes)
    )
    findings, check = check_declared(decision, declared, changes, new.info)
    return ReleaseDiff(
        old=old.info,
        new=new.info,
        changes=tuple(changes),
        unchanged_count=unchanged,
        findings=findings,
        reconciliation=decision,
        representation_only=tuple(representation_only),
        addenda=check,
    )


def compare_fields(
    pairs: Sequence[tuple[CodeRecord, CodeRecord]], fields: Sequence[FieldSpec]
) -> list[tuple[tuple[FieldChange, ...], tuple[FieldChange, ...]]]:
    """For (old, new) pairs of one code each, of any code set: the changes of each pair, and
    the fields that differ only in representation (`equivalent`), each in `fields` order.

    Fields are read by name (`getattr`); a repeated field's changed slots come from one DeepDiff
    call over all pairs.
    """
    differing: list[list[FieldSpec]] = []
    tuple_old: dict[str, dict[str, tuple[str, ...]]] = {}
    tuple_new: dict[str, dict[str, tuple[str, ...]]] = {}
    representation: list[list[FieldSpec]] = []
    for index, (old, new) in enumerate(pairs):
        unequal = [spec for spec in fields if getattr(old, spec.name) != getattr(new, spec.name)]
        changed: list[FieldSpec] = []
        same: list[FieldSpec] = []
        for spec in unequal:
            if equivalent(spec.name, getattr(old, spec.name), getattr(new, spec.name)):
                same.append(spec)
            else:
                changed.append(spec)
        differing.append(changed)
        representation.append(same)
        for spec in changed:
            if spec.repeated:
                key = str(index)
                tuple_old.setdefault(key, {})[spec.name] = getattr(old, spec.name)
                tuple_new.setdefault(key, {})[spec.name] = getattr(new, spec.name)
    items = _tuple_item_changes(tuple_old, tuple_new)
    return [
        (
            tuple(
                _field_change(spec, old, new, items.get((str(index), spec.name), ()))
                for spec in changed
            ),
            tuple(_field_change(spec, old, new, ()) for spec in same),
        )
        for index, ((old, new), changed, same) in enumerate(
            zip(pairs, differing, representation, strict=True)
        )
    ]


def _build_changes(
    pairs: Sequence[tuple[Any, Any]], fields: Sequence[FieldSpec]
) -> list[CodeChange]:
    """CodeChanges for (old, new) pairs of one code each that are known to differ."""
    return [
        CodeChange(
            code=new.code,
            kind=_kind(old, new) if changes else ChangeKind.UNCHANGED,
            old=old,
            new=new,
            fields=changes,
            flags=_code_flags(changes),
            representation=same,
        )
        for (old, new), (changes, same) in zip(pairs, compare_fields(pairs, fields), strict=True)
    ]


def _tuple_item_changes(
    old: Mapping[str, Mapping[str, tuple[str, ...]]],
    new: Mapping[str, Mapping[str, tuple[str, ...]]],
) -> dict[tuple[str, str], tuple[ItemChange, ...]]:
    """Slot-level changes of the repeated fields, keyed by (pair index, field), from DeepDiff."""
    if not old:
        return {}
    tree = _deepdiff()(old, new, view="tree")
    collected: dict[tuple[str, str], list[ItemChange]] = {}
    for report in ("values_changed", "iterable_item_added", "iterable_item_removed"):
        for level in tree.get(report, ()):
            path = level.path(output_format="list")
            if len(path) != 3:
                continue
            key, name, slot = path
            collected.setdefault((str(key), str(name)), []).append(
                ItemChange(int(slot), _present(level.t1), _present(level.t2))
            )
    return {
        key: tuple(sorted(changes, key=lambda item: item.index))
        for key, changes in collected.items()
    }


def _deepdiff() -> Any:
    """DeepDiff, imported on first use so that commands which never diff skip its cost.

    deepdiff also imports pandas and polars when they are installed (0.7 s), to compare data
    frames; records are flat, so those are hidden while it loads, unless already imported.
    """
    hidden = [name for name in ("pandas", "polars") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        from deepdiff import DeepDiff
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]
    return DeepDiff


def _present(value: Any) -> str | None:
    """DeepDiff's not-present sentinel (an added or removed slot) as None."""
    return value if isinstance(value, str) else None


# Free-text fields: a change of case, whitespace or punctuation only is cosmetic.
_TEXT_FIELDS = frozenset({"long_description", "short_description", "long_title", "short_title"})


def _field_change(
    spec: FieldSpec, old: CodeRecord, new: CodeRecord, items: tuple[ItemChange, ...]
) -> FieldChange:
    name = spec.name
    before, after = getattr(old, name), getattr(new, name)
    flags: set[Flag] = set()
    if name in _TEXT_FIELDS and is_cosmetic(before, after):
        flags.add(Flag.COSMETIC)
    if (
        name == "long_description"
        and Flag.COSMETIC not in flags
        and description_similarity(before, after) < REUSE_SIMILARITY_THRESHOLD
    ):
        flags.add(Flag.REUSED)
    if name == "added_date" and before is not None and after is not None and after > before:
        flags.add(Flag.REUSED)
    return FieldChange(name, Category(spec.category), before, after, frozenset(flags), items)


def _kind(old: CodeRecord, new: CodeRecord) -> ChangeKind:
    """Terminated or re-activated by the record's own end date (HCPCS), else changed."""
    ended = getattr(old, "termination_date", None)
    ends = getattr(new, "termination_date", None)
    if ended is None and ends is not None:
        return ChangeKind.TERMINATED
    if ended is not None and ends is None:
        return ChangeKind.REACTIVATED
    return ChangeKind.CHANGED


def _code_flags(fields: Sequence[FieldChange]) -> frozenset[Flag]:
    """Reused if any field says so; cosmetic if every non-bookkeeping change is cosmetic."""
    flags: set[Flag] = set()
    if any(Flag.REUSED in change.flags for change in fields):
        flags.add(Flag.REUSED)
    substantive = [change for change in fields if change.field not in BOOKKEEPING]
    if substantive and all(Flag.COSMETIC in change.flags for change in substantive):
        flags.add(Flag.COSMETIC)
    return frozenset(flags)


def apply_diff(old_records: Mapping[str, Record], diff: ReleaseDiff) -> dict[str, Record]:
    """Rebuild the new release from the old one and the diff's field changes.

    Changed codes are rebuilt from their `FieldChange`s (not copied from `CodeChange.new`), so
    `apply_diff(a, diff(A, B)) == b` proves the field changes are complete. The diff must have
    been made from these records: a code whose record differs from the diff's old side is an
    error, not silently overwritten.
    """
    out = dict(old_records)
    for change in (*diff.changes, *diff.representation_only):
        code = change.code
        if change.kind is ChangeKind.ADDED:
            if code in out:
                raise ValueError(f"{code}: added by the diff but already present")
            assert change.new is not None
            out[code] = change.new
            continue
        current = out.get(code)
        if current is None or current != change.old:
            raise ValueError(f"{code}: record differs from the diff's {diff.old.display} side")
        if change.kind in (ChangeKind.PURGED, ChangeKind.DELETED):
            del out[code]
        else:
            edits = (*change.fields, *change.representation)
            out[code] = dataclasses.replace(current, **{fc.field: fc.new for fc in edits})
    return out
