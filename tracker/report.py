"""Rendering: the project's one Jinja environment.

Templates live in the top-level `templates/` folder (shipped inside the package); a user folder
given with `--templates` is searched first, so any template can be overridden by name. HTML
templates are autoescaped; undefined variables are errors, so a template typo fails loudly
instead of printing blanks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)

from tracker.errors import TrackerError
from tracker.resources import resource_dir


class TemplateProblem(TrackerError):
    """A template is missing or broken: named with its file and line."""


def environment(user_templates: Path | None = None) -> Environment:
    loaders = []
    if user_templates is not None:
        if not user_templates.is_dir():
            raise TemplateProblem(f"{user_templates}: template folder does not exist")
        loaders.append(FileSystemLoader(str(user_templates)))
    loaders.append(FileSystemLoader(str(resource_dir("templates"))))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, context: Mapping[str, Any], *, user_templates: Path | None = None) -> str:
    env = environment(user_templates)
    try:
        return env.get_template(name).render(**context)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
    except TemplateError as exc:
        raise TemplateProblem(f"{name}: {exc}") from None
