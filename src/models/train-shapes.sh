#!/usr/bin/env bash
# Trains genaug's reference model and writes it into deploy/model-repository (about 50 minutes
# on 2 cores with AVX512 in float32, longer without AVX512: see src/models/README.md). Needs
# Debian's python3-torch, python3-onnx, python3-pil and libopenblas0-pthread.
# Renders its data with the project's own renderer first, so it trains on exactly the images the
# platform and the tests see.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
data="target/shapes-parts"
./genaug dataset render --count 20000 --seed 1 --out "$data/train" 2>/dev/null
./genaug dataset render --count 2000 --seed 2 --out "$data/heldout" 2>/dev/null
# Debian's interpreter, which has the Debian torch (another python3 may come first on PATH).
# The reference model's decoder draws 4 crisp layers and its encoder also reads an upright crop
# (docs/labelling-experiments.md). Options given to this script come after these and win:
# `--layers 0 --crisp 0 --no-canonical-encoder` trains the reference model of before 2026-12.
/usr/bin/python3 src/models/shapes/train.py --train "$data/train" --heldout "$data/heldout" \
  --repository deploy/model-repository --vae-epochs "${VAE_EPOCHS:-45}" \
  --layers 4 --crisp 20 --canonical-encoder "$@"
/usr/bin/python3 src/models/shapes/card.py --repository deploy/model-repository
# The generator was exported again as version 1: what was made from the old one's latent space and
# feature maps (its radius calibration, the reference labeller) is made again, as it was made.
./genaug calibrate
rm -rf deploy/model-repository/shapes-labeller deploy/model-repository/shapes-labeller-pipeline
./genaug labeller train --from-renders 16 --seed 0
