"""Regenerate the bundled example (src/ssr/assets/): scikit-image's `coffee` photo (CC0, Rachel
Michetti) and a HAND-MADE approximate depth layout for it (not measured): a table plane receding
towards the top, a dark far background in the top-left corner, the saucer slightly and the cup
clearly above the table. Run: .venv/bin/python scripts/make_example.py (needs scikit-image)."""

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

out = Path(__file__).resolve().parent.parent / "src" / "ssr" / "assets" / "example"
photo = data.coffee()
h, w = photo.shape[:2]
yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
inverse_depth = 0.30 + 0.60 * (yy / (h - 1))  # table plane: nearer towards the bottom
far_corner = (xx / w + yy / h) < 0.22
inverse_depth[far_corner] = 0.05
saucer = ((xx - 278) / 205) ** 2 + ((yy - 232) / 152) ** 2 <= 1
inverse_depth[saucer] = np.maximum(inverse_depth[saucer], 0.62)
cup = (((xx - 290) / 122) ** 2 + ((yy - 150) / 135) ** 2 <= 1) | (
    ((xx - 228) / 40) ** 2 + ((yy - 265) / 42) ** 2 <= 1)
spoon = ((xx - 370) / 42) ** 2 + ((yy - 282) / 48) ** 2 <= 1
inverse_depth[cup] = 0.80
inverse_depth[spoon] = np.maximum(inverse_depth[spoon], 0.70)
Image.fromarray(photo).save(out / "hr" / "coffee.png", compress_level=9)
Image.fromarray(np.round(inverse_depth * 255).astype(np.uint8), "L").save(out / "depth" / "coffee.png")
print("wrote", out / "hr" / "coffee.png", out / "depth" / "coffee.png")
