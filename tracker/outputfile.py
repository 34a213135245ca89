"""Output files (`-o`): written whole or not at all, and never over the database or an input.

An output is written to a temporary file beside its target, named `.<name>.tmp-XXXXXXXX` so a
stray one is easy to recognise, flushed to disk and renamed over the target only when the
command succeeds. A failure (an exception, a bad header found after writing began, Ctrl-C,
SIGTERM) removes the temporary file and leaves an existing target byte for byte as it was. Only
a process killed outright (SIGKILL, power loss) can leave a temporary file behind; the target
is still intact.

Before anything is written the target is compared with the database in use (a SQLite file, with
its journal files) and with every input, by device and inode as well as by resolved path, so a
hard or symbolic link to them is refused too. A target that exists but is not a regular file
(`/dev/null`, `/dev/stdout`, a pipe) is written to directly: there is nothing to rename over.

The price of the rename: the target's folder must be writable (not just the file), the new file
keeps the old one's permission bits but is owned by whoever ran the command, and a target with
other hard links is replaced by a new file (the other names keep the old content).
"""

from __future__ import annotations

import errno
import io
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import IO, TextIO, cast

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tracker.errors import TrackerError

TEMP_MARK = ".tmp-"
# SQLite keeps these beside the database file; overwriting one corrupts the database too.
_SQLITE_SIDECARS = ("", "-journal", "-wal", "-shm")


class OutputError(TrackerError):
    """An output file that must not or cannot be written."""


def sqlite_file(url: str | URL) -> Path | None:
    """The file behind a SQLite URL, or None (another database, in-memory, unparsable)."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    if database in ("", ":memory:"):
        return None
    return Path(database)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _same_file(a: Path, b: Path) -> bool:
    first, second = _identity(a), _identity(b)
    if first is not None and first == second:
        return True
    return os.path.realpath(a) == os.path.realpath(b)


def check_output(
    target: str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    database: Path | None = None,
    input_folders: Iterable[str | Path] = (),
) -> Path:
    """Refuse a target that would destroy the database or an input; return it as a Path.

    `input_folders` are folders read as a whole (templates): nothing inside them is written.
    """
    path = Path(target)
    if path.is_dir():
        raise OutputError(f"{target}: is a directory; give a file name for the output")
    if database is not None:
        for suffix in _SQLITE_SIDECARS:
            if _same_file(path, Path(f"{database}{suffix}")):
                raise OutputError(
                    f"{target}: is the database in use ({database}); write the output elsewhere"
                )
    for source in inputs:
        if _same_file(path, Path(source)):
            raise OutputError(f"{target}: is the input {source}; write the output elsewhere")
    real = Path(os.path.realpath(path))
    for folder in input_folders:
        if real.is_relative_to(os.path.realpath(folder)):
            raise OutputError(f"{target}: is inside the input folder {folder}; write it elsewhere")
    return path


def _problem(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "its folder does not exist"
    return (exc.strerror or str(exc)).lower() if exc.strerror else str(exc)


def write_failure(target: str | Path, exc: OSError) -> OutputError:
    """The one-line error for an output that could not be written."""
    return OutputError(f"{target}: cannot write the output ({_problem(exc)})")


def _new_file_mode() -> int:
    # The mode `open()` would give a new file: 0o666 less the umask (mkstemp makes 0o600).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class _Terminated(SystemExit):
    """SIGTERM while an output is open: unwinds (removing the temporary file), exits 143."""


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise _Terminated(128 + signum)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Let SIGTERM unwind the stack like Ctrl-C does, so cleanup runs; restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def open_output(
    target: str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    database: Path | None = None,
    input_folders: Iterable[str | Path] = (),
    newline: str | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> Iterator[TextIO]:
    """A text file (UTF-8 unless told) that replaces `target` when the block ends without an
    exception.

    OS errors while opening, writing or renaming become one-line `OutputError`s naming the
    target; any exception leaves the target as it was and removes the temporary file.
    """
    path = check_output(target, inputs=inputs, database=database, input_folders=input_folders)
    real = Path(os.path.realpath(path))  # a symbolic link keeps pointing at the new content
    try:
        existing = os.stat(real)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise write_failure(target, exc) from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with _direct(target, real, newline, encoding, errors) as stream:
            yield stream
        return
    with _sigterm_unwinds():
        try:
            handle, temp_name = tempfile.mkstemp(prefix=f".{real.name}{TEMP_MARK}", dir=real.parent)
        except OSError as exc:
            raise write_failure(target, exc) from None
        temp = Path(temp_name)
        stream = _Output(target, open(handle, "wb"), newline, encoding, errors)  # noqa: SIM115
        try:
            yield stream
        except BaseException:
            # The command failed (its own errors pass through as they are): drop the output.
            _discard(stream, temp)
            raise
        try:
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
            os.chmod(temp, stat.S_IMODE(existing.st_mode) if existing else _new_file_mode())
            os.replace(temp, real)
        except OSError as exc:
            _discard(stream, temp)
            raise write_failure(target, exc) from None
        except BaseException:
            _discard(stream, temp)
            raise
        _sync_folder(real.parent)


class _Output(io.TextIOWrapper):
    """The output stream: a failed write is an `OutputError` naming the target, so it is told
    apart from errors of the command's other files."""

    def __init__(
        self,
        target: str | Path,
        raw: IO[bytes],
        newline: str | None,
        encoding: str = "utf-8",
        errors: str = "strict",
    ) -> None:
        super().__init__(
            cast(io.BufferedWriter, raw), encoding=encoding, errors=errors, newline=newline
        )
        self.target = target

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except OSError as exc:
            raise write_failure(self.target, exc) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            raise write_failure(self.target, exc) from None


def _discard(stream: _Output, temp: Path) -> None:
    with suppress(OSError, OutputError):
        stream.close()
    _remove(temp)


@contextmanager
def _direct(
    target: str | Path, real: Path, newline: str | None, encoding: str, errors: str
) -> Iterator[TextIO]:
    """A device or pipe given as the output: written in place."""
    try:
        raw = real.open("wb")
    except OSError as exc:
        raise write_failure(target, exc) from None
    stream = _Output(target, raw, newline, encoding, errors)
    try:
        yield stream
    except BaseException:
        with suppress(OSError, OutputError):
            stream.close()
        raise
    try:
        stream.close()
    except OSError as exc:
        raise write_failure(target, exc) from None
    finally:
        if not stream.closed:
            with suppress(OSError, OutputError):
                stream.close()


def write_output(
    target: str | Path,
    text: str,
    *,
    inputs: Iterable[str | Path] = (),
    database: Path | None = None,
    input_folders: Iterable[str | Path] = (),
) -> None:
    """Write `text` to `target` as `open_output` does."""
    with open_output(
        target, inputs=inputs, database=database, input_folders=input_folders, newline=""
    ) as stream:
        stream.write(text)


def _remove(temp: Path) -> None:
    with suppress(OSError):
        temp.unlink()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
