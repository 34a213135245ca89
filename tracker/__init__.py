"""tracker: a versioned change tracker for HCPCS Level II, ICD-10-CM and ICD-10-PCS."""

__version__ = "0.1.0"
