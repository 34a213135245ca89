"""Reports: view dataclasses (`views`), built from diffs (`build`), SVG chart geometry
(`charts`), rendered through the project's one Jinja environment (`render`)."""
