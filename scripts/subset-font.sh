#!/usr/bin/env bash
# Rebuilds the font subsets the `backprop` binary embeds for PNG output
# (crates/backprop-cli/assets/fonts/): DejaVu Sans and DejaVu Sans Bold cut to Latin, Greek,
# punctuation, super- and subscripts, arrows and mathematical operators (δ, ∂, ‖, ∝, ⊙, ˡ, ᵀ).
# Needs Debian's fonts-dejavu-core and fontTools (pip install fonttools). Not run by CI: the
# subsets are committed.
set -euo pipefail
source_dir=${DEJAVU_DIR:-/usr/share/fonts/truetype/dejavu}
out_dir="$(dirname "$0")/../crates/backprop-cli/assets/fonts"
unicodes="U+0020-007E,U+00A0-00FF,U+0131,U+0152-0153,U+02C6-02C7,U+02D8-02DD,U+02E1,U+0370-03FF,\
U+1D2C-1D6A,U+1D9C-1DBF,U+2000-206F,U+2070-209F,U+20AC,U+2100-215F,U+2190-21FF,U+2200-22FF,\
U+2300-23FF,U+25A0-25FF,U+2C7C,U+2713-2717"
for face in DejaVuSans DejaVuSans-Bold; do
  pyftsubset "$source_dir/$face.ttf" --unicodes="$unicodes" --layout-features='*' \
    --no-hinting --desubroutinize --output-file="$out_dir/$face-subset.ttf"
done
ls -l "$out_dir"
