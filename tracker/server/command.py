"""The `serve` command: the application under uvicorn, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve pages, the JSON API (/api/) and FHIR terminology (/fhir/), read-only."""
    import uvicorn

    from tracker.server import library
    from tracker.server.app import create_app

    app = create_app(ctx.obj["db"])
    # The first question would otherwise wait while every stored record is read once.
    answers = app.state.answers
    for key in library.SERVED_KEYS:
        if library.releases(answers.store, key):
            answers.index(answers.known_at(None, key))
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
