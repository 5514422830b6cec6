"""The degradation SCM: kernels, fields, fast apply, noise, JPEG, records, protocols, set building."""
