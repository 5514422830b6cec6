"""The one door to "an upscaler": every caller (`ssr upscale`, `ssr bench`, `ssr example`, the
benchmark scripts) gets its method from `make_method`.

Names:
  nearest, bicubic, lanczos, bicubic+usm      classical (any scale, no options)
  ssr                                         SVKR with the shipped weights (options: SVKROptions)
  ssr-t1, ssr-t3, ssr-nodepth, ssr-oracle,    presets of SVKROptions: the paper's ablations and
  ssr-nokernel, ssr-gtdepth, ssr-bf16,        what each modality is worth
  ssr-refine                                  + the diffusion refiner
  PRESET:key=value,...                        a preset with options set (e.g. ssr-refine:steps=4,fidelity=0.8)
  A>B                                         cascade: A's output reduced to the input size, then B
                                              (e.g. ssr>ncnn:realesrgan-x4plus, a zero-training control)
  spandrel:PATH, ncnn:NAME|FILE.param         peer models (fixed scale)
An option that a method does not take, or that its preset fixes, is a one-line error, never ignored.
Heavy imports (torch, the SVKR networks) happen only when such a method is made.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ssr.errors import ConfigError
from ssr.methods.base import Method, UpscaleResult
from ssr.options import FLAGS, SVKROptions

DEFAULT_METHOD = "ssr"
CLASSICAL = ("nearest", "bicubic", "lanczos", "bicubic+usm")

#: The SVKR ablations of the benchmark tables, each a preset of the options (what it fixes).
PRESETS: dict[str, dict] = {
    "ssr": {},
    "ssr-t1": {"rounds": 1},  # no iterative refinement (today's default too)
    "ssr-t3": {"rounds": 3},  # the paper's Algorithm 1: T = 3 refinement rounds
    "ssr-nodepth": {"depth": "none"},  # DKENet sees flat depth
    "ssr-oracle": {"kernels": "true"},  # the set's true kernel field instead of DKENet (upper bound)
    "ssr-nokernel": {"kernels": "prior"},  # the prior's mean kernel everywhere: what the kernel estimate is worth
    "ssr-gtdepth": {"depth": "gt"},  # DKENet on the set's TRUE depth: what better depth would be worth
    "ssr-bf16": {"precision": "bf16"},  # same weights under bfloat16 autocast (speed)
    "ssr-refine": {"refine": "diffusion"},  # + the AMF-conditioned diffusion refiner (issue 11)
}
PEER_PREFIXES = ("spandrel:", "ncnn:")
#: Options each kind of method takes (everything else is refused with the flag's name).
_SPANDREL_OPTIONS = {"device"}


def method_names() -> list[str]:
    return [*CLASSICAL, *PRESETS, "spandrel:PATH", "ncnn:NAME"]


def _refuse(spec: str, given: dict, allowed: set[str]) -> None:
    extra = [FLAGS.get(k, k) for k in given if k not in allowed]
    if extra:
        raise ConfigError(f"{', '.join(extra)} {'does' if len(extra) == 1 else 'do'} not apply to method "
                          f"'{spec}' (SVKR options apply to: {', '.join(PRESETS)})")


def svkr_options(spec: str, **given) -> SVKROptions:
    """The options of SVKR preset `spec` with the caller's explicit options applied."""
    fixed = PRESETS[spec]
    clashes = [FLAGS.get(k, k) for k in given if k in fixed and given[k] != fixed[k]]
    if clashes:
        raise ConfigError(f"method '{spec}' fixes {', '.join(clashes)}; use --method ssr to set it")
    unknown = set(given) - {f.name for f in dataclasses.fields(SVKROptions)}
    if unknown:
        raise ConfigError(f"unknown SVKR option(s) {sorted(unknown)}")
    return SVKROptions(**{**given, **fixed})


def preset_settings(spec: str, text: str) -> dict:
    """'steps=2,fidelity=0.5' (after 'PRESET:') -> typed SVKROptions values, so a benchmark can name
    e.g. `ssr-refine:steps=4,fidelity=0.8` as one method."""
    import typing

    from ssr.settings import coerce

    hints = typing.get_type_hints(SVKROptions)
    out = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep or key not in hints:
            raise ConfigError(f"method '{spec}': expected PRESET:key=value,... with keys from {sorted(hints)}")
        out[key] = coerce(value, hints[key], f"method {spec}: {key}", from_text=True)
    return out


def make_method(spec: str, scale: int = 4, *, keep_rounds: bool = False, **options) -> Method:
    """Resolve a method name; `options` are the SVKROptions fields the caller set explicitly."""
    given = {k: v for k, v in options.items() if v is not None}
    if spec in CLASSICAL:
        from ssr.methods.classical import FUNCTIONS, ClassicalMethod

        _refuse(spec, given, set())
        return ClassicalMethod(spec, FUNCTIONS[spec])
    if ">" in spec:
        from ssr.methods.cascade import CascadeMethod

        first, second = spec.split(">", 1)
        return CascadeMethod(make_method(first, scale, keep_rounds=keep_rounds, **options), make_method(second, scale))
    preset, _, settings = spec.partition(":")
    if preset in PRESETS:
        from ssr.methods.svkr import SVKRMethod

        given = {**given, **preset_settings(spec, settings)}
        return SVKRMethod(spec, scale, svkr_options(preset, **given), keep_rounds=keep_rounds)
    if spec.startswith("spandrel:"):
        from ssr.methods.peers import load_spandrel

        _refuse(spec, given, _SPANDREL_OPTIONS)
        return load_spandrel(Path(spec.split(":", 1)[1]), device=given.get("device", "cpu"))
    if spec.startswith("ncnn:"):
        from ssr.methods.peers import load_ncnn

        _refuse(spec, given, set())
        return load_ncnn(spec.split(":", 1)[1])
    raise ConfigError(f"unknown method '{spec}' (one of {', '.join(method_names())})")


__all__ = ["Method", "UpscaleResult", "SVKROptions", "make_method", "method_names", "PRESETS", "CLASSICAL",
           "DEFAULT_METHOD"]
