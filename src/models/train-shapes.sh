#!/usr/bin/env bash
# Trains genaug's reference model and writes it into deploy/model-repository (about 25 minutes on
# 2 cores with AVX512-BF16, up to ~34 on this VM's slowest days: see the model card). Needs
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
/usr/bin/python3 src/models/shapes/train.py --train "$data/train" --heldout "$data/heldout" \
  --repository deploy/model-repository --vae-epochs "${VAE_EPOCHS:-45}" "$@"
/usr/bin/python3 src/models/shapes/card.py --repository deploy/model-repository
# The generator was exported again as version 1: what was made from the old one's latent space and
# feature maps (its radius calibration, the reference labeller) is made again, as it was made.
./genaug calibrate
rm -rf deploy/model-repository/shapes-labeller deploy/model-repository/shapes-labeller-pipeline
./genaug labeller train --from-renders 16 --seed 0
