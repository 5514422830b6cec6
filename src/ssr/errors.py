"""Error types the CLI turns into one-line messages (never tracebacks)."""


class SsrError(Exception):
    """Base class of every error a user can cause; the CLI prints `ssr: <message>` and exits 2."""

    exit_code = 2


class ImageReadError(SsrError):
    """A file that cannot be read as an image: missing, empty, corrupt, truncated, unsupported, too big."""


class ImageWriteError(SsrError):
    """An output that cannot be written (bad extension, would replace an input, unwritable folder)."""


class ConfigError(SsrError):
    """A configuration or option that does not validate (unknown key, value out of range)."""


class DataError(SsrError):
    """Missing or inconsistent data: no images in a folder, unmatched depth maps, size mismatch."""


class UnavailableError(SsrError):
    """An optional component (weights, package, parameter file) that is not present on this machine."""
