# HR sets the bench scripts share (source it: `. bench/sets.sh`); DATA = ../shared/data.

# first_images SRC DST N: the first N images of SRC (sorted) linked into DST (short runs on a 2-core CPU)
first_images() {
  local src=$1 dst=$2 n=$3
  mkdir -p "$dst"
  ls "$src" | grep -Ei '\.(png|jpe?g|bmp|tiff?)$' | sort | head -n "$n" | while read -r f; do ln -sf "$src/$f" "$dst/$f"; done
}

# middlebury_heldout DATA DST: scenes 26-30 (RGB/ and Depth/), never in the depth or dof training data
# (scenes 1-25 are)
middlebury_heldout() {
  local data=$1 dst=$2 f
  mkdir -p "$dst/RGB" "$dst/Depth"
  for f in $(ls "$data/depth/Middlebury/RGB" | sort | tail -5); do ln -sf "$(realpath "$data/depth/Middlebury/RGB/$f")" "$dst/RGB/$f"; done
  for f in $(ls "$data/depth/Middlebury/Depth" | sort | tail -5); do ln -sf "$(realpath "$data/depth/Middlebury/Depth/$f")" "$dst/Depth/$f"; done
}

# refiner_sets DATA OUT N: the refiner benchmarks' x4 sets under OUT/hr (B100 and Set14: first N images;
# middlebury_heldout)
refiner_sets() {
  local data=$1 out=$2 n=$3
  first_images "$data/val/B100" "$out/hr/B100" "$n"
  first_images "$data/val/Set14" "$out/hr/Set14" "$n"
  middlebury_heldout "$data" "$out/hr/middlebury_heldout"
}
