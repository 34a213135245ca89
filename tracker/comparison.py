"""Comparing two stored releases: the diff behind `tracker diff`, `report` and `impact`.

Stored releases are compared as the publisher shipped them, with what the publisher declared
about the newer one (HCPCS action codes and transaction reports, ICD-10 addenda) reconciled
against what the diff observed. This sits below `tracker.api` so that the use cases built on a
diff (`impact`, the watchlist of a report) reach it without going through the API module.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from tracker import companions
from tracker.codeset_choice import choose_code_set
from tracker.codesets import get_code_set
from tracker.crosswalk import replacements_between
from tracker.diff import Category, ChangeKind, ReleaseDiff, diff_snapshots, filter_diff
from tracker.errors import ReleaseError
from tracker.store import Store


def diff_releases(
    store: Store,
    old: str,
    new: str,
    *,
    categories: Collection[Category] = (),
    prefix: str = "",
    code_set: str | None = None,
) -> ReleaseDiff:
    """Every change from release `old` to release `new`, reconciling what the publisher
    declared about `new` when `old` is the release the declaration counts from; with
    `categories` or `prefix`, only that part of it (`filter_diff`)."""
    chosen = choose_code_set(store, code_set, labels=[old, new])
    old_info = store.resolve(old, chosen)
    new_info = store.resolve(new, chosen)
    if old_info.id == new_info.id:
        raise ReleaseError(f"{old} and {new} are the same release ({old_info.display}); name two")
    if old_info.code_set != new_info.code_set:
        raise ReleaseError(
            f"{old_info.display} ({old_info.code_set}) and {new_info.display}"
            f" ({new_info.code_set}) are releases of different code sets"
        )
    stored = {info.label for info in store.current_releases(chosen)}
    result = diff_snapshots(
        store.snapshot(old_info),
        store.snapshot(new_info),
        stored=stored,
        **companions.declared_changes(store, old_info, new_info),
    )
    result = replace(
        result,
        transaction_report=companions.report_check(store, new_info),
        corrections=companions.corrections_listings(store, new_info),
    )
    result = with_replacements(store, result)
    if categories or prefix:
        return filter_diff(result, categories=categories, prefix=prefix)
    return result


def with_replacements(store: Store, diff: ReleaseDiff) -> ReleaseDiff:
    """`diff` with each deleted code's replacements from the conversion tables known at its new
    release (ICD-10; a code set whose records name their own replacements is left as is)."""
    if get_code_set(diff.code_set).has_end_dates:
        return diff
    deleted = [change.code for change in diff.by_kind(ChangeKind.DELETED)]
    if not deleted:
        return diff
    return replace(diff, replaced_by=replacements_between(store, diff.old, diff.new, deleted))
