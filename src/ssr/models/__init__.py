"""Networks only (no sampling, no file handling): DKENet, kernel-conditioned RRDB, shared blocks."""
