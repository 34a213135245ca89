"""HCPCS Level II: CMS's record layout, files, code tables, calendar and declared actions."""

from tracker.codesets.hcpcs.codeset import HCPCS, Hcpcs

__all__ = ["HCPCS", "Hcpcs"]
