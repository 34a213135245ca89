"""Code sets the tracker knows (HCPCS Level II, ICD-10-CM, ICD-10-PCS), one package each."""
