"""ssr: blind super-resolution of real photographs with spatially variant, depth-informed blur."""

__version__ = "0.1.0"
