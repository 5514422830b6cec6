"""Spatially variant kernel fields.

Two kinds, both giving one kernel per kept (LR) pixel to `apply.blur_downsample`:

* `GridField`: kernel parameters stored on a coarse grid of nodes spread evenly over the image
  (corner nodes on the corner LR pixels) and interpolated bilinearly in between. The Gaussian
  family interpolates covariance entries (stays positive definite, no angle wrap-around); motion
  interpolates (length, doubled angle) as a vector since a segment is the same under angle + pi.
  `random_gaussian_field` draws node values independently and uniformly: a smooth random field.
* `DefocusField`: thin-lens circle of confusion from a depth map. With relative inverse depth D
  (1 = nearest) and focus plane D_f, the blur-disk radius in HR pixels is
  r = aperture * |D - D_f|, clipped to what the kernel holds. For a thin lens of focal length f,
  aperture diameter A and focus distance d_f, the CoC diameter is A f / (d_f - f) * d_f * |1/d - 1/d_f|,
  i.e. linear in inverse depth; `aperture` folds A, f, d_f and the pixel pitch into one number.
  Occlusion: a kept pixel p gathers from tap q with its own disk, except that a NEARER tap q
  contributes only where q's own disk reaches p (|q - p| <= r_q + 0.5). So a sharp foreground does
  not bleed into the defocused background behind it, while a defocused foreground still spreads
  over what lies behind it. Weights are renormalised after masking.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field

import numpy as np
import torch

from ssr.degradation import kernels as K
from ssr.degradation.apply import Geometry, pad_hr, patches

GAUSSIAN_SHAPES = ("gaussian", "generalized", "plateau")
GRID_FAMILIES = GAUSSIAN_SHAPES + ("disk", "motion")
_REQUIRED = {
    "gaussian": ("sigma_x", "sigma_y", "theta"),
    "generalized": ("sigma_x", "sigma_y", "theta", "beta"),
    "plateau": ("sigma_x", "sigma_y", "theta", "beta"),
    "disk": ("radius",),
    "motion": ("length", "angle"),
}


def _interpolate(nodes: np.ndarray, out_h: int, out_w: int, row0: int = 0, row1: int | None = None) -> np.ndarray:
    """Bilinear interpolation of a (gh, gw) node grid onto LR rows [row0, row1) of an out_h x out_w grid."""
    row1 = out_h if row1 is None else row1
    gh, gw = nodes.shape
    ys = np.arange(row0, row1, dtype=np.float64) * ((gh - 1) / max(out_h - 1, 1))
    xs = np.arange(out_w, dtype=np.float64) * ((gw - 1) / max(out_w - 1, 1))
    y0 = np.clip(np.floor(ys).astype(int), 0, max(gh - 2, 0))
    x0 = np.clip(np.floor(xs).astype(int), 0, max(gw - 2, 0))
    y1, x1 = np.minimum(y0 + 1, gh - 1), np.minimum(x0 + 1, gw - 1)
    wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = nodes[y0][:, x0] * (1 - wx) + nodes[y0][:, x1] * wx
    bottom = nodes[y1][:, x0] * (1 - wx) + nodes[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


@dataclass
class GridField:
    """Kernel parameters on a (gh, gw) node grid; see the module docstring."""

    family: str
    size: int
    params: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        if self.family not in GRID_FAMILIES:
            raise ValueError(f"unknown kernel family '{self.family}' (one of {', '.join(GRID_FAMILIES)})")
        missing = [name for name in _REQUIRED[self.family] if name not in self.params]
        extra = [name for name in self.params if name not in _REQUIRED[self.family]]
        if missing or extra:
            raise ValueError(f"{self.family} field needs parameters {_REQUIRED[self.family]}, "
                             f"missing {missing}, unexpected {extra}")
        self.params = {k: np.asarray(v, dtype=np.float64) for k, v in self.params.items()}
        shapes = {v.shape for v in self.params.values()}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2:
            raise ValueError(f"field parameters must be 2-D grids of one shape, got {shapes}")

    @property
    def grid(self) -> tuple[int, int]:
        return next(iter(self.params.values())).shape

    def _node_channels(self) -> dict[str, np.ndarray]:
        """The quantities that are interpolated between nodes."""
        p = self.params
        if self.family in GAUSSIAN_SHAPES:
            c_xx, c_xy, c_yy = K.covariance(p["sigma_x"], p["sigma_y"], p["theta"])
            channels = {"c_xx": c_xx, "c_xy": c_xy, "c_yy": c_yy}
            if "beta" in p:
                channels["beta"] = p["beta"]
            return channels
        if self.family == "disk":
            return {"radius": p["radius"]}
        return {"mx": p["length"] * np.cos(2 * p["angle"]), "my": p["length"] * np.sin(2 * p["angle"])}

    def pixel_maps(self, lr_h: int, lr_w: int, row0: int = 0, row1: int | None = None) -> dict[str, np.ndarray]:
        """Per-LR-pixel interpolated quantities (what a kernel estimator is trained to predict)."""
        return {k: _interpolate(v, lr_h, lr_w, row0, row1) for k, v in self._node_channels().items()}

    def kernels_for(self, maps: dict[str, np.ndarray], offset: tuple[float, float],
                    dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """(N, size*size) kernels from flattened per-pixel maps."""
        flat = {k: torch.from_numpy(np.ascontiguousarray(v).reshape(-1)).to(dtype) for k, v in maps.items()}
        if self.family in GAUSSIAN_SHAPES:
            return K.kernels_from_covariance(self.size, flat["c_xx"], flat["c_xy"], flat["c_yy"], shape=self.family,
                                             beta=flat.get("beta", 1.0), offset=offset, dtype=dtype)
        if self.family == "disk":
            return K.disk_kernels(self.size, flat["radius"], offset=offset, dtype=dtype)
        length = torch.sqrt(flat["mx"] ** 2 + flat["my"] ** 2)
        angle = 0.5 * torch.atan2(flat["my"], flat["mx"])
        return K.motion_kernels(self.size, length, angle, offset=offset, dtype=dtype)

    def weights(self, geometry: Geometry, row0: int, row1: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        maps = self.pixel_maps(geometry.lr_h, geometry.lr_w, row0, row1)
        offset = (geometry.offset, geometry.offset)
        return self.kernels_for(maps, offset, dtype).view(row1 - row0, geometry.lr_w, -1)

    def to_dict(self) -> dict:
        return {"family": self.family, "size": self.size,
                "params": {k: v.tolist() for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "GridField":
        return cls(data["family"], int(data["size"]), {k: np.asarray(v) for k, v in data["params"].items()})


def random_gaussian_field(rng: np.random.Generator, grid: tuple[int, int], size: int,
                          sigma_range: tuple[float, float], shape: str = "gaussian",
                          beta_range: tuple[float, float] = (0.5, 4.0)) -> GridField:
    """A smooth random field of anisotropic Gaussian-family kernels (node values i.i.d. uniform)."""
    lo, hi = sigma_range
    params = {
        "sigma_x": rng.uniform(lo, hi, grid),
        "sigma_y": rng.uniform(lo, hi, grid),
        "theta": rng.uniform(0.0, np.pi, grid),
    }
    if shape != "gaussian":
        params["beta"] = rng.uniform(*beta_range, grid)
    return GridField(shape, size, params)


def circle_of_confusion(depth: np.ndarray, focus: float, aperture: float, max_radius: float) -> np.ndarray:
    """Thin-lens blur-disk radius (HR pixels) from relative inverse depth; see the module docstring."""
    return np.clip(aperture * np.abs(np.asarray(depth, np.float64) - focus), 0.0, max_radius)


@dataclass
class DefocusField:
    """Depth-of-field kernels: per-pixel disks from the circle of confusion, occlusion-aware."""

    depth: np.ndarray  # (H, W) relative inverse depth at HR resolution, 1 = nearest
    focus: float
    aperture: float
    size: int
    occlusion: bool = True
    _padded: dict = dataclass_field(default_factory=dict, repr=False)

    @property
    def max_radius(self) -> float:
        return K.kernel_radius_bound(self.size)

    def radius_map(self) -> np.ndarray:
        return circle_of_confusion(self.depth, self.focus, self.aperture, self.max_radius)

    def lr_radius(self, geometry: Geometry) -> np.ndarray:
        """Nominal disk radius at each kept pixel (the kernel a DoF estimator should find)."""
        a, s = geometry.anchor, geometry.scale
        return self.radius_map()[a::s, a::s][:geometry.lr_h, :geometry.lr_w]

    def _maps(self, geometry: Geometry, dtype: torch.dtype) -> torch.Tensor:
        """Padded (depth, radius) at HR size, built once per geometry and dtype (not per chunk)."""
        key = (geometry, dtype)
        if key not in self._padded:
            h, w = geometry.lr_h * geometry.scale, geometry.lr_w * geometry.scale
            stack = np.stack([self.depth[:h, :w], self.radius_map()[:h, :w]]).astype(np.float64)
            self._padded = {key: pad_hr(torch.from_numpy(stack), geometry.pad).to(dtype)}
        return self._padded[key]

    def weights(self, geometry: Geometry, row0: int, row1: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        maps = self._maps(geometry, dtype)
        neighbourhood = patches(maps, geometry, row0, row1)  # (2, k*k, rows, lr_w)
        centre = self.size * self.size // 2
        depth_q, radius_q = neighbourhood[0], neighbourhood[1]
        depth_p, radius_p = depth_q[centre], radius_q[centre]
        offset = (geometry.offset, geometry.offset)
        disks = K.disk_kernels(self.size, radius_p.reshape(-1), offset=offset, dtype=dtype)  # (N, k*k)
        disks = disks.view(row1 - row0, geometry.lr_w, -1)
        if not self.occlusion:
            return disks
        ty, tx = K.tap_grid(self.size, offset, dtype)
        distance = torch.sqrt(ty * ty + tx * tx)  # (k*k,)
        nearer = depth_q > depth_p[None] + 1e-6
        reaches = distance[:, None, None] <= radius_q + 0.5
        keep = (~nearer | reaches).permute(1, 2, 0).to(disks.dtype)
        masked = disks * keep
        return masked / masked.sum(dim=2, keepdim=True)

    def to_dict(self) -> dict:
        return {"family": "defocus", "size": self.size, "focus": self.focus, "aperture": self.aperture,
                "occlusion": self.occlusion}
