"""tracker: a versioned change tracker for the CMS HCPCS Level II code set."""

__version__ = "0.1.0"
