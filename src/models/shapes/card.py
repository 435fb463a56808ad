"""Writes deploy/model-repository/MODEL_CARD.md from the figures train.py measured (shapes-metrics.json)."""
import argparse
import json
import os


def pct(v):
    return f"{100 * v:.1f}%"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repository", required=True)
    args = p.parse_args()
    with open(os.path.join(args.repository, "shapes-metrics.json")) as f:
        run = json.load(f)
    m = run["metrics"]
    with open(os.path.join(args.repository, "shapes-generator", "genaug.json")) as f:
        gen = json.load(f)
    feats = ", ".join(f"`{x['name']}` ({x['channels']} channels, stride {x['stride']})" for x in gen["features"])
    sizes = {}
    for name in ("shapes-encoder", "shapes-generator", "shapes-classifier"):
        sizes[name] = os.path.getsize(os.path.join(args.repository, name, "1", "model.onnx")) / 1e6
    cats = ["house", "tree", "car"]
    # train.py uses channels-last tensors only with bfloat16 (see its train_vae).
    arithmetic = ("computed in bfloat16 autocast on channels-last tensors (weights and loss in float32)"
                  if run.get("vae_precision", "float32") != "float32" else "computed in float32")
    mix_rows = "\n".join(
        f"| {c} | {pct(m['heldout_category_share_' + c])} | {pct(m['prior_category_share_' + c])} |" for c in cats)
    text = f"""# Model card: the shapes-parts reference model

genaug's own small generative model, trained by the project on the procedural dataset it renders
(`./genaug dataset render`), so every claim the platform makes can be checked against exact ground
truth. Three models of this repository belong to it:

| model | what it is | ONNX size |
|---|---|---|
| `shapes-encoder` | convolutional encoder: image [3, 64, 64] in [-1, 1] -> posterior `mu`, `logvar` [32] | {sizes['shapes-encoder']:.1f} MB |
| `shapes-generator` | the decoder: `z` [32] -> `image` [3, 64, 64] and feature maps {feats} | {sizes['shapes-generator']:.1f} MB |
| `shapes-classifier` | CNN of the category (house, tree, car): `logits`, `probabilities` [3] | {sizes['shapes-classifier']:.1f} MB |

**Training data.** shapes-parts renderer version {run['training_data']['renderer_version']}, seed
{run['training_data']['seed']}, {run['training_data']['count']} renders (SHA-256 of the spec:
`{run['training_data_hash'][:16]}...`). Categories are deliberately skewed 60/30/10 (house, tree,
car): a documented bias; the figures below show how much of it the prior keeps.

**Objective.** beta-VAE with beta = 1 and a Gaussian likelihood of standard deviation 0.1 (pixels
in [-1, 1]) in which object pixels (known exactly from the masks) weigh 10 times more than
background pixels, whose noise cannot be reconstructed anyway; latent dimension 32, standard
normal prior; Adam with cosine-decayed learning rate, mini-batches of {run['vae_batch']},
{run['vae_epochs']} epochs, {arithmetic}. Encoder: four 4x4 stride-2 convolutions and a linear layer to (mu,
log-variance). Decoder: a linear layer to 4x4, then per level nearest-neighbour upsampling and a 3x3
convolution (LeakyReLU), each level's output being one of the feature maps. One term beyond the
beta-VAE: a linear read-out of the category from the posterior mean, trained with it (cross-entropy
with label smoothing 0.1, weight 3 x 10^4 against a reconstruction term of ~5 x 10^4 nats per image),
so that the latent carries the category; the read-out is a training aid and is not exported, the
generator stays unconditional (z ~ N(0, I) in, image out). Classifier: cross-entropy, 6
epochs, half of its training images blurred at random (sigma up to 1.5 px) so that it judges
shape rather than sharpness.

**Reproduce.** `src/models/train-shapes.sh` (about 26 minutes on 2 cores with AVX512-BF16; float32, about three times longer, where the CPU has no native bfloat16; fixed seeds, a fixed number of epochs; this card
and `shapes-metrics.json` are rewritten by the same run). Training took {run['seconds'] / 60:.1f} minutes.

## Figures

All on {run['heldout_count']} held-out renders (seed {run['heldout_seed']}), except the prior
rows, which use 10,000 samples z ~ N(0, I).

| figure | value |
|---|---|
| reconstruction PSNR, decode(encode_mean(x)) vs x | {m['reconstruction_psnr_db']:.2f} dB |
| classifier accuracy on real renders | {pct(m['classifier_accuracy'])} |
| category kept after reconstruction (classifier on decode(mu) vs truth) | {pct(m['category_kept_after_reconstruction'])} |
| the same, per category: house / tree / car | {' / '.join(pct(m['category_kept_after_reconstruction_' + c]) for c in cats)} |
| prior samples the classifier calls with confidence >= 0.9 | {pct(m['prior_confident_share'])} |

Category mix, real renders (truth) and 10,000 prior samples (classifier's call):

| category | held-out renders | prior samples |
|---|---|---|
{mix_rows}

`ReferenceModelTest` (Java, ONNX Runtime) recomputes the PSNR and the classifier accuracy on the
first 200 held-out renders from the committed ONNX files
({m['reconstruction_psnr_db_first_200']:.2f} dB and {pct(m['classifier_accuracy_first_200'])} here) and fails
when a model swap changes them.

## Picture

Rows: 8 held-out renders; their reconstructions decode(mu); 8 prior samples; a spherical
interpolation between the latents of two held-out renders.

![shapes-parts reference model](shapes-card.png)

## Limits

64x64 pixels, one object per scene, three categories. The prior is skewed like its data, and
samples far from the data are blurrier than reconstructions. These are the properties the
platform's later features (MaGNET sampling, calibrated latent views, the labeller) are measured
against.
"""
    kept = m['category_kept_after_reconstruction']
    text += f"""
## Against the targets of the reference-model issue

| target | measured | met |
|---|---|---|
| classifier accuracy on real renders >= 98% | {pct(m['classifier_accuracy'])} | {'yes' if m['classifier_accuracy'] >= 0.98 else 'no'} |
| category kept after reconstruction >= 95% | {pct(kept)} | {'yes' if kept >= 0.95 else 'no'} |
| training under 30 minutes on 2 cores | {run['seconds'] / 60:.1f} minutes | {'yes' if run['seconds'] < 1800 else 'no'} |

What moved "category kept", and what did not (each variant trained 4 minutes, kept measured on
1,000 held-out renders; the full run then trained {run['vae_epochs']} epochs): transposed convolutions in the
decoder were replaced by nearest-neighbour upsampling and 3x3 convolutions, which train 2.5 times
more images per second on this CPU (379 against 151), so the same budget sees 2.5 times the data (61% -> 69% at 4 minutes;
70% -> 78.8% for the full run of 24 epochs). Then bfloat16 autocast on channels-last tensors, which
this CPU runs natively (AVX512-BF16): 30 ms a step of 32 against 94 ms, so 3.1 times the updates in
the same time (at 4 minutes: 69% after 2,841 updates in float32, 76% after 7,387 in bfloat16;
78.8% -> 82.0% for the full run, now {run['vae_epochs']} epochs). Then the category read-out on the
latent (the objective above): without it the latent carried the category poorly (an MLP probe on
the posterior means of the previous model: 83% on held-out renders, a linear one 62%) and cars
decoded as houses (cars kept 35%, houses 92%, trees 75%). At 4 minutes it kept 79.0% against 76.4%
(cars 39% -> 64%), and a 16-annotation labeller trained on those two 4-minute generators reached
0.128 against 0.115 mIoU (both at weight 10^4). The full run at weight 10^4: 87.9% against 82.0%
(house / tree / car 94.3% / 85.5% / 52.5%), PSNR 21.53 dB against 21.44 dB, same architecture and
epochs. Its cost is in the prior: the share of prior samples the judge calls with confidence >= 0.9
fell (69% -> 42% at 4 minutes; 62.9% -> 58.9% in the full run), because the categories sit apart in
the latent space with prior mass between them. Probes on its posterior means: 97.0% linear, 97.3%
MLP (cars 96%), so what was lost was lost in the decoder: a car's latent said car, and half of its
decodes did not look like one. The weight, at 4 minutes: 10^3 and 3 x 10^3 never separated the
categories (cross-entropy stuck at 0.74 and 0.63 nats; kept 75.7% and 75.6%), 10^4 kept 79.0% (cars
64%, 42% of prior samples confident), 3 x 10^4 80.9% (cars 68%, 38%), 10^5 79.7% (cars 64%, 49%);
without the label smoothing (10^4) 79.8% but only 19% confident, smoothing 0.2 77.4% (45%). The
weight trades kept reconstructions against confident prior samples. **This model: weight 3 x 10^4,
run in full**: {pct(kept)} against 87.9% at 10^4 (house / tree / car
{' / '.join(pct(m['category_kept_after_reconstruction_' + c]) for c in cats)}, cars most), PSNR
{m['reconstruction_psnr_db']:.2f} dB against 21.53 dB, prior samples confident 58.9% ->
{pct(m['prior_confident_share'])}. Probes on its posterior means (the first 10,000 training
means, tested on the held-out ones): 98.2% linear, 98.3% MLP (cars 96% and 98%).
Tried and not kept: the reconstruction of each image weighted by its category (0.79 / 1.12 / 1.93
for house / tree / car, the inverse square root of each category's share, scaled to average 1; at
weight 10^4, 4 minutes: 75.7%, houses 82% against 87%, cars 65%, trees 65%), a learning rate of 2e-3 (69%), wider
layers (32 to 256 channels: 66%, fewer steps), a Laplace likelihood (65%; trees and cars better,
houses worse), a judge trained on stronger blur (68%, and 97.5% on real renders: the misses are
shapes, not sharpness), beta = 0.5 (66%), pixels of small parts weighted up to 4 times more (65%:
houses better, trees and cars worse), a category term on the reconstructions from a second
classifier (not the judge; weight 200: 67%; weight 1000 with bfloat16: 72% against 76% without,
its cost eating updates), batches of 16 in bfloat16 (75%: 1.6 times the updates, each on
half the images), and a wider encoder in bfloat16 (48 to 256 channels: 74%, 5,117 updates). The thin parts (trunk, wheels) are what reconstructions lose, which is
why trees and cars are kept less often than houses, and cars, a tenth of the data, least. Returns
of more updates diminish: 2.5 times the updates (24 -> 60 epochs) added 3.2 points, the read-out
{100 * (kept - 0.820):.1f} more; what is left is mostly the cars. The next lead, measured at 4 minutes
only (weight 3 x 10^4): a residual 3x3 convolution added at the 4x4, 8x8 and 16x16 levels of the
decoder (about 30% more generator arithmetic, same feature maps and outputs) kept 83.1% against
80.9% (trees 76% against 71%, PSNR 21.25 against 21.05 dB) in fewer updates (5,360 against 6,372);
one more at 32x32 as well, 82.3% (4,928 updates). Its full run needs about 52 epochs to stay under
30 minutes and has not been made. Beyond that, a larger decoder trained for far longer (a GPU) is
the lever this 30-minute budget on 2 cores does not have.
"""
    with open(os.path.join(args.repository, "MODEL_CARD.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
