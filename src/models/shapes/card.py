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
    layers = run.get("decoder_layers", 0)
    crisp = run.get("crisp", 0.0)
    if run.get("canonical_encoder", False):
        encoder_text = """Encoder: four 4x4 stride-2 convolutions, then a linear layer to (mu,
log-variance) and a linear pose head, held to the render's true pose like the decoder's; a second
CNN (a 3x3 convolution, three 4x4 stride-2 ones and a linear layer) reads a 32x32 crop of the
picture taken at that pose, the object upright, centred and at one size (the inverse of the
decoder's warp), and its output is added to the first's, so small parts sit at one place of the
crop whatever the object's pose."""
    else:
        encoder_text = "Encoder: four 4x4 stride-2 convolutions and a linear layer to (mu, log-variance)."
    if layers:
        crisp_text = (f" A term of weight {crisp:g} on the sum of opacity x (1 - opacity) over the canvas, ramped in"
                      " over the first half of the run, makes each layer opaque or absent at a pixel rather than a blend."
                      if crisp else "")
        canvas_text = f"""{layers} opacity
maps: the object drawn upright, centred and at one size on a 32x32 canonical canvas as {layers} layers
composited back to front, each of one colour read linearly from z, so that differently coloured
parts fall into different layers and the layer shown at a pixel tells which part is there (nothing
names the parts to the model).{crisp_text}"""
        extra_channels = f"each layer's visibility and the canvas's coverage ({layers} + 1 channels)"
        history_text = """(Until 2026-12 the reference decoder drew the canvas in per-pixel colour
and one coverage, and its encoder read the whole picture only: labellers trained on 16 annotations
reached 0.75 of the mIoU of 256, against 0.95 now (0.97 with the labeller's previous members),
docs/labelling.md.)"""
    else:
        canvas_text = """colour and
coverage: the object drawn upright, centred and at one size on a 32x32 canonical canvas."""
        extra_channels = "the canvas's coverage (1 channel)"
        history_text = """(Until 2026-12 the 4x4 level was warped onto a 4x4 grid too and the
coverage was not a feature; the 8x8 grid and the coverage channel lift labellers trained on 16
annotations by several mIoU points: docs/labelling.md.)"""
    if run.get("vae_precision", "float32") != "float32":
        judge_note = ("16 s an epoch against 33 s in float32 on a CPU with AVX512-BF16, and 99.85% of held-out"
                      " renders against 99.5% for the same judge trained in float32")
    else:
        judge_note = ("on a CPU with AVX512-BF16, bfloat16 autocast ran an epoch in 16 s against 33 s in float32,"
                      " and that judge reached 99.85% of held-out renders against 99.5% trained in float32")
    arithmetic_short = "bfloat16 autocast" if run.get("vae_precision", "float32") != "float32" else "float32"
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
{run['vae_epochs']} epochs, {arithmetic}. {encoder_text} Decoder, object-centred (a spatial
transformer): a linear layer to 4x4, then per level nearest-neighbour upsampling and a 3x3
convolution (LeakyReLU) up to 32x32, one residual 3x3 convolution there and a last one to {canvas_text}
A linear pose head reads the object's centre, log scale and rotation from z, and the canvas is
warped into the 64x64 picture there by bilinear sampling (ONNX `GridSample`) over a flat
background colour, also linear in z. The feature maps are the canvas levels (4x4 to 32x32) warped
into the picture's frame, the 4x4 and 8x8 ones on an 8x8 grid, the others on a grid of their own
size, so they line up with the image's pixels; the 32x32 level also carries {extra_channels} as its
last channels; outside the warped canvas they are zero. {history_text} Three terms beyond the beta-VAE, all
training aids (the generator stays unconditional: z ~ N(0, I) in, image out):
a linear read-out of the category from the posterior mean (cross-entropy with label smoothing 0.1,
weight 3 x 10^4 against a reconstruction term that falls from ~10^5 to ~3 x 10^4 nats per image over the run), so that the latent
carries the category; the pose head applied to the posterior mean held to the render's true pose
(squared error in standard deviations of each factor, weight 10^5); and the warped coverage held
to the object's true mask (binary cross-entropy summed over pixels, weight 10). Classifier: four
3x3 convolutions with BatchNorm, cross-entropy, 6 epochs with a cosine-decayed learning rate, {arithmetic}
like the VAE ({judge_note}), half
of its training images blurred at random (sigma up to 1.5 px) so that it judges shape rather than
sharpness. (The previous judge, the same without BatchNorm and with a constant learning rate,
reached 98.4% on the machine it was trained on, and 97.4% when the same script ran on another:
it predicted the majority category for its first two epochs there.)

**Reproduce.** `src/models/train-shapes.sh` (2 cores with AVX512-BF16; float32, about three times
longer, where the CPU has no native bfloat16; fixed seeds, a fixed number of epochs; two runs
write byte-identical ONNX files; this card and `shapes-metrics.json` are rewritten by the same
run). Training took {run['seconds'] / 60:.1f} minutes ({arithmetic_short}). This development VM's speed and CPU
vary between sessions: the previous reference model (one canvas, the plain encoder) took 25.0
minutes in bfloat16 on a CPU with AVX512-BF16 and 26.1 to 36.1 minutes in other runs; the layered
decoder with the crop encoder costs about a fifth more per VAE epoch than it.

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

What moved "category kept", and what did not (variants trained 4 minutes each and judged on
held-out renders, then the chosen one run in full). Before this decoder: transposed convolutions
replaced by nearest-neighbour upsampling and 3x3 convolutions (2.5 times the images per second on
this CPU; full runs 70% -> 78.8%); bfloat16 autocast on channels-last tensors, which the CPU runs
natively (AVX512-BF16, 3.1 times the updates; 78.8% -> 82.0%); the category read-out on the latent
(without it the category was in the posterior means poorly, an MLP probe found it in 83% of
held-out renders, and cars decoded as houses; full runs at weight 10^4 87.9%, at 3 x 10^4 88.8%,
then house / tree / car 95.0% / 84.9% / 60.3%). Probes on that model's posterior means found the
category in 98% of them: what was lost was lost in the decoder, which had to learn to draw every
shape at every position, size and angle from a global code, and lost the thin parts (wheels,
trunks) on the way; more updates had stopped paying (2.5 times the updates added 3.2 points).

The object-centred decoder takes position, size and angle out of what the
convolutions learn. At 4 minutes each, same machine and session, kept on held-out renders: the
previous decoder 79.1% and 77.1% in two runs of the same code (so about 2 points of noise between
runs), with a residual 3x3 convolution at its 4x4, 8x8 and 16x16 levels 78.5%; object-centred on a
64x64 canvas 87.4% (pose weight 10^4), 88.9% (10^5), 87.7% (3 x 10^5); on a 32x32 canvas, which
makes the steps cheaper, 90.0% (90.3% without the mask term); with a residual convolution on the
32x32 canvas 92.9% (house / tree / car 93.8% / 95.0% / 78.8%), adopted. Also measured that session
and not kept: the previous decoder with its image drawn from the 32x32 level by a sub-pixel
convolution (79.5%; 80.0% with the residual convolutions), with coordinate channels added to every
level's input (72.3%: a third fewer steps in the time), and an exponential moving average of the
weights (decay 0.999) for evaluation (77.9% against 79.1% for the same run's plain weights).
Run in full (45 epochs in bfloat16, 25.0 minutes) it kept 98.2% (house / tree / car 97.7% /
99.5% / 96.6%), PSNR 22.19 dB, prior samples called with confidence >= 0.9 45.3%, against 88.8%
(95.0% / 84.9% / 60.3%), 21.58 dB and 52.2% for the previous decoder's 60 epochs (doors, windows
and wheels, which that decoder blurred away, came back). The 4-minute figures were judged by the
previous classifier, that model's by its own; on the same 2,000 held-out renders, the previous
classifier found it keeping 97.6% and its judge found the previous model keeping 91.4% (88.8% by
the previous classifier), so the gain was the generator's, not the judge's.
"""
    if layers:
        text += f"""
Layers and a crop encoder (this model, since 2026-12) were made for the labeller, not for
"category kept": with one canvas in per-pixel colour, the reconstructions did not draw windows or
fruit at all and blended parts, so labellers trained on 16 annotations stopped at 0.75 of the mIoU
of 256. Six layers without the other two changes kept windows and fruit inside the wall and crown
layers (0.88 of 256); {layers} crisp layers with the crop encoder reach 0.97 with DatasetGAN's
[128, 32] members and 0.95 with the labeller's default [32, 16] (docs/labelling.md; 0.98 for the
same options trained on another VM, docs/labelling-experiments.md). **This model, run in full** ({run['vae_epochs']} epochs): {pct(kept)}
(house / tree / car {' / '.join(pct(m['category_kept_after_reconstruction_' + c]) for c in cats)}),
PSNR {m['reconstruction_psnr_db']:.2f} dB, prior samples called with confidence >= 0.9
{pct(m['prior_confident_share'])}, judged by its own classifier (trained in {run.get('vae_precision', 'float32')}).
"""
    with open(os.path.join(args.repository, "MODEL_CARD.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
