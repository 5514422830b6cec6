"""Size limits users can raise on the command line (kept import-free so `ssr --help` stays fast)."""

#: Largest input image read by default (pixels); --max-pixels raises it.
DEFAULT_MAX_PIXELS = 200_000_000
#: Largest output ssr produces by default (a 16 MP photo at x4); bounds memory on a 24 GB machine.
DEFAULT_MAX_OUTPUT_PIXELS = 256_000_000
