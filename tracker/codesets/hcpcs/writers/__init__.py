"""Writers: the inverse of the parsers, for samples, round-trip tests and synthetic releases."""
