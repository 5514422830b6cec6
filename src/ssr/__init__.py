"""ssr: blind super-resolution of real photographs with spatially variant, depth-informed blur.

    from ssr import Upscaler          # the upscaler (PIL / numpy / torch in, the same kind out)
    from ssr import degrade           # the degradation SCM for researchers (sample, render, intervene)

Both are imported on first use, so `import ssr` (and `ssr --help`) stay light.
"""

__version__ = "0.1.0"
__all__ = ["Upscaler", "Result", "degrade", "__version__"]


def __getattr__(name: str):
    if name in ("Upscaler", "Result"):
        from ssr import api

        return getattr(api, name)
    if name == "degrade":
        import importlib

        return importlib.import_module("ssr.degrade")
    raise AttributeError(f"module 'ssr' has no attribute {name!r}")
