"""`tracker serve`: web pages, a JSON API and FHIR R4 terminology operations over a store."""

from tracker.server.app import create_app

__all__ = ["create_app"]
