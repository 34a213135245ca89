"""Reports, one job per module: view dataclasses (`views`); how a value reads (`describe`) and
a description's word-level edit (`words`); the views of a release pair (`build`), a year
(`year`) and a code page (`codepage`); SVG chart geometry (`charts`); CSV rows (`rows`);
rendering through the project's one Jinja environment (`render`)."""
