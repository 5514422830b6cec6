"""Image, kernel and depth metrics (BasicSR conventions where the field has them)."""

from ssr.metrics.depth_error import depth_errors
from ssr.metrics.kernel_error import kernel_errors
from ssr.metrics.niqe import niqe, niqe_params_path
from ssr.metrics.psnr_ssim import psnr_rgb, psnr_y, rgb_to_y, ssim_rgb, ssim_y

__all__ = ["psnr_y", "psnr_rgb", "ssim_y", "ssim_rgb", "rgb_to_y", "niqe", "niqe_params_path",
           "kernel_errors", "depth_errors"]
