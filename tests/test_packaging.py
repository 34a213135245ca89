"""A plain, non-editable install must carry the templates and the migrations."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import PROJECT_ROOT


def test_wheel_ships_templates_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=PROJECT_ROOT,
        check=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (PROJECT_ROOT / "templates").glob("*.j2"):
        assert f"tracker/templates/{template.name}" in names
    for migration in (PROJECT_ROOT / "migrations" / "versions").glob("*.py"):
        assert f"tracker/migrations/versions/{migration.name}" in names
    assert "tracker/migrations/env.py" in names
    assert "tracker/migrations/script.py.mako" in names
    assert any(name.endswith("code.txt.j2") for name in names)


def test_installed_wheel_runs_from_outside_the_checkout(tmp_path: Path) -> None:
    """Install the wheel into a fresh environment and store a release with it."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), "."],
        cwd=PROJECT_ROOT,
        check=True,
    )
    (wheel,) = wheels.glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    target = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = target / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site_packages)
    # Dependencies come from the project's environment; the checkout itself must not be on
    # the path (an editable install adds it only through a .pth file, which this skips).
    dependencies = next(p for p in map(Path, sys.path) if p.name == "site-packages")
    env = {"PYTHONPATH": str(dependencies), "PATH": "/usr/bin:/bin"}
    sample = PROJECT_ROOT / "snapshots" / "HCPC2026_JAN_SAMPLE.txt"
    result = subprocess.run(
        [str(python), "-m", "tracker.cli", "--db", str(tmp_path / "t.db"), "ingest", str(sample)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "stored 2026-JAN" in result.stdout
    import tracker

    location = subprocess.run(
        [str(python), "-c", "import tracker; print(tracker.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert str(Path(tracker.__file__).parent) not in location
