"""The degradation SCM as pure math: kernels, fields, fast apply, noise, JPEG, records, protocols.

No files, no depth estimators, no networks: `ssr.sets` turns folders into sets with it."""
