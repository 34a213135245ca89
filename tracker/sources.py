"""Reading a user's path into a `SourceFile`, and deciding the release label it holds.

A path is a file, or a directory of per-code pages (zipped here, deterministically, so the same
directory is the same source twice). Its label is the user's `--release`, read by the file's
code set, or else what the file's names announce: a release zip's name and the name of the
member that held the data, which the code set reads together (`zip!member`).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from tracker.codesets import CodeSet
from tracker.codesets.base import LabelParts, SourceFile
from tracker.errors import ReleaseError, SourceError
from tracker.release import version_marker

# A fixed timestamp makes the zip built from a directory of pages byte-stable, so ingesting
# the same directory twice is recognised as the same source.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# A label to show in "give it with --release …", by code set (HCPCS's otherwise).
_LABEL_EXAMPLES = {"icd10cm": "FY2024", "icd10pcs": "FY2024"}


def read_source(path: str | Path) -> SourceFile:
    """The bytes to ingest; a directory of per-code pages becomes one deterministic zip."""
    target = Path(path)
    try:
        if target.is_dir():
            return _zip_directory(target)
        if target.exists() and not target.is_file():
            # Reading a FIFO waits forever for a writer; /dev/zero never ends.
            raise SourceError(str(path), "is not a regular file (a device, pipe or socket)")
        return SourceFile(name=target.name, data=target.read_bytes())
    except FileNotFoundError:
        raise SourceError(str(path), "no such file or directory") from None
    except PermissionError:
        raise SourceError(str(path), "cannot read it (permission denied)") from None
    except IsADirectoryError:
        raise SourceError(str(path), "is a directory") from None
    except OSError as exc:
        raise SourceError(str(path), f"cannot read it ({exc.strerror or exc})") from None


def _zip_directory(directory: Path) -> SourceFile:
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise SourceError(str(directory), "directory holds no files to ingest")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return SourceFile(name=f"{directory.name}.zip", data=buffer.getvalue())


def _names(source: SourceFile, data_member: str) -> str:
    """The source's name, or `zip!member` when a member of it held the data."""
    if data_member == source.name:
        return source.name
    return f"{source.name}!{data_member.rsplit('!', 1)[-1]}"


def resolve_label(
    code_set: CodeSet,
    source: SourceFile,
    data_member: str,
    release: str | None,
    named: str | None = None,
) -> LabelParts:
    """The release `source` holds: `release` (a label without an issue) when given, else the
    one its content names (`named`, e.g. from an ICD-10 addenda summary), else the one its
    names announce; a `ReleaseError` says what to give when none tells."""
    if release:
        parts = code_set.parse_label(release)
        if parts.issue is not None:
            raise ReleaseError(
                f"--release {release}: give the label without an issue; use --reissue to store"
                " a new issue of a stored release"
            )
        return parts
    label = named or code_set.infer_label(_names(source, data_member))
    if label is None:
        example = _LABEL_EXAMPLES.get(code_set.name, "2020-APR")
        raise ReleaseError(
            f"{source.name}: cannot tell the release from the file name;"
            f" give it with --release {example}"
        )
    return code_set.parse_label(label)


def source_version_marker(source: SourceFile, data_member: str) -> str | None:
    """The publisher's version marker: the published file's name first, else its data
    member's."""
    return version_marker(source.name) or version_marker(data_member.rsplit("!", 1)[-1])
