"""Train genaug's reference model on shapes-parts and write it into the model repository.

A convolutional beta-VAE (latent dimension 32) whose decoder also returns its intermediate feature
maps, and a small CNN classifier of the category. Exports ONNX (opset 17, dynamic batch), writes
config.pbtxt and genaug.json for shapes-encoder, shapes-generator and shapes-classifier, then
evaluates on the held-out renders and writes MODEL_CARD.md with its picture.

Run through src/models/train-shapes.sh, which renders the data with the project's own renderer.
"""
import argparse
import hashlib
import io
import json
import math
import os
import tarfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

LATENT = 32
CHANNELS = (24, 48, 96, 192)
HEAD = 16  # channels of the decoder's last 64x64 layer
VAE_BATCH = 32
CATEGORIES = ["house", "tree", "car"]
RECON_SIGMA = 0.1  # Gaussian likelihood std-dev in [-1, 1] pixel units
BETA = 1.0
# Object pixels weigh this much more in the reconstruction term. The backgrounds cover ~85% of a
# scene and are mostly irreducible noise; unweighted, the VAE spends its capacity on them and
# returns the object as a blob (measured: 30% of reconstructions kept their category).
FOREGROUND_WEIGHT = 10.0
# An auxiliary term: a linear read-out of the category from the posterior mean, with cross-entropy
# (label smoothing 0.1) weighted like this against the reconstruction's ~5e4 nats per image. Left to
# the reconstruction alone, the latent carries the category poorly (an MLP probe on mu: 83%) and
# cars decode as houses; at 1e3 or 3e3 the read-out does not separate the categories at all, at 1e4
# it does, and 3e4 keeps more reconstructions' category (cars most) for fewer confident prior
# samples. The smoothing bounds how far the categories are pushed apart, which otherwise leaves
# more of the prior between them (see the model card). The generator stays unconditional.
CATEGORY_WEIGHT = 3e4
CATEGORY_SMOOTHING = 0.1


def load_shards(folder):
    """Images as float32 [N, 3, 64, 64] in [-1, 1], masks uint8 [N, 64, 64], categories int64 [N]."""
    images, masks, cats = [], [], []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".tar"):
            continue
        with tarfile.open(os.path.join(folder, name)) as tar:
            members = {m.name: m for m in tar.getmembers()}
            keys = sorted({n.split(".")[0] for n in members})
            for k in keys:
                img = np.array(Image.open(io.BytesIO(tar.extractfile(members[k + ".png"]).read())))
                mask = np.array(Image.open(io.BytesIO(tar.extractfile(members[k + ".mask.png"]).read())))
                meta = json.loads(tar.extractfile(members[k + ".json"]).read())
                images.append(img)
                masks.append(mask)
                cats.append(meta["scene"].get("category", 0))
    x = np.stack(images).astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0
    return torch.from_numpy(x), torch.from_numpy(np.stack(masks)), torch.tensor(cats, dtype=torch.int64)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        c1, c2, c3, c4 = CHANNELS
        self.net = nn.Sequential(
            nn.Conv2d(3, c1, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c1, c2, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c2, c3, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c3, c4, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(c4 * 16, 2 * LATENT))

    def forward(self, image):
        h = self.net(image)
        return h[:, :LATENT], h[:, LATENT:]


class Decoder(nn.Module):
    """z -> image in [-1, 1] and the feature maps at strides 16, 8, 4 and 2.

    Each level doubles the resolution by nearest-neighbour upsampling followed by a 3x3
    convolution. Measured on 2 cores (Debian torch 1.13): it trains 2.5 times more images per second
    than transposed convolutions, whose CPU kernels there are slow, so a time budget sees 2.5 times
    the data.
    """

    def __init__(self):
        super().__init__()
        c1, c2, c3, c4 = CHANNELS
        self.fc = nn.Linear(LATENT, c4 * 16)
        self.up8 = nn.Conv2d(c4, c3, 3, 1, 1)
        self.up16 = nn.Conv2d(c3, c2, 3, 1, 1)
        self.up32 = nn.Conv2d(c2, c1, 3, 1, 1)
        self.up64 = nn.Conv2d(c1, HEAD, 3, 1, 1)
        self.out = nn.Conv2d(HEAD, 3, 3, 1, 1)

    def forward(self, z):
        def up(conv, h):
            return F.leaky_relu(conv(F.interpolate(h, scale_factor=2, mode="nearest")), 0.2)
        f4 = F.leaky_relu(self.fc(z).view(-1, CHANNELS[3], 4, 4), 0.2)
        f8 = up(self.up8, f4)
        f16 = up(self.up16, f8)
        f32 = up(self.up32, f16)
        return torch.tanh(self.out(up(self.up64, f32))), f4, f8, f16, f32


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, 1, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(64, len(CATEGORIES)))

    def forward(self, image):
        logits = self.net(image)
        return logits, torch.softmax(logits, dim=1)


def train_vae(x, masks, y, epochs, batch, log, bf16=True):
    """Trains in bfloat16 autocast on channels-last tensors (weights, loss and optimiser stay in
    float32). Measured on 2 cores with AVX512-BF16, batch 32: 30 ms a step against 94 ms in plain
    float32, so the same time budget makes three times the updates, which is what this model is
    limited by. Without native bfloat16 the CPU emulates it, slower than float32: see --precision."""
    enc, dec = Encoder(), Decoder()
    readout = nn.Linear(LATENT, len(CATEGORIES))  # training aid only, not exported
    if bf16:
        enc, dec = enc.to(memory_format=torch.channels_last), dec.to(memory_format=torch.channels_last)
    params = list(enc.parameters()) + list(dec.parameters()) + list(readout.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    g = torch.Generator().manual_seed(1)
    start = time.time()
    per_epoch = len(x) // batch
    total = epochs * per_epoch
    step = 0
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(len(x), generator=g)
        totals = [0.0, 0.0, 0.0]
        for i in range(0, per_epoch * batch, batch):
            # Cosine learning-rate decay over the whole run.
            frac = step / total
            for group in opt.param_groups:
                group["lr"] = 1e-4 + 0.5 * (1e-3 - 1e-4) * (1 + math.cos(math.pi * frac))
            idx = perm[i:i + batch]
            xb = x[idx].contiguous(memory_format=torch.channels_last) if bf16 else x[idx]
            weight = 1.0 + (FOREGROUND_WEIGHT - 1.0) * (masks[idx] > 0).float().unsqueeze(1)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                mu, logvar = enc(xb)
                mu, logvar = mu.float(), logvar.float()
                z = mu + torch.randn(mu.shape, generator=g) * torch.exp(0.5 * logvar)
                recon = dec(z)[0].float()
            rec = (weight * (recon - xb) ** 2).sum(dim=(1, 2, 3)).mean() / (2 * RECON_SIGMA ** 2)
            kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(dim=1).mean()
            category = F.cross_entropy(readout(mu), y[idx], label_smoothing=CATEGORY_SMOOTHING)
            loss = rec + BETA * kl + CATEGORY_WEIGHT * category
            opt.zero_grad()
            loss.backward()
            opt.step()
            totals[0] += rec.item()
            totals[1] += kl.item()
            totals[2] += category.item()
            step += 1
        log(f"vae epoch {epoch}: reconstruction {totals[0] / per_epoch:.1f} nats, KL {totals[1] / per_epoch:.1f} nats, "
            f"category read-out {totals[2] / per_epoch:.3f} nats, "
            f"{time.time() - start:.0f} s")
    # Back to the default layout for evaluation and a plain ONNX export.
    return enc.to(memory_format=torch.contiguous_format).eval(), dec.to(memory_format=torch.contiguous_format).eval()


def native_bf16():
    """Whether the CPU has bfloat16 arithmetic (Linux reports it among the CPU flags)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def blur(images, sigma):
    """Separable Gaussian blur with one standard deviation per image (0 = unchanged)."""
    radius = 3
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    out = []
    for img, s in zip(images, sigma):
        if s <= 0:
            out.append(img)
            continue
        k = torch.exp(-0.5 * (offsets / s) ** 2)
        k = (k / k.sum()).view(1, 1, -1)
        c = img.shape[0]
        h = F.conv2d(F.pad(img.unsqueeze(0), (radius, radius, 0, 0), mode="replicate"),
                     k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        v = F.conv2d(F.pad(h, (0, 0, radius, radius), mode="replicate"),
                     k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
        out.append(v[0])
    return torch.stack(out)


def train_classifier(x, y, epochs, batch, log):
    """The judge learns the category from shape: half of its training images get a random blur
    (sigma up to 1.5 px), so softer images, like a generator's, are judged by their shape."""
    clf = Classifier()
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(2)
    for epoch in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        correct = 0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            sigma = torch.rand(len(idx), generator=g) * 1.5 * (torch.rand(len(idx), generator=g) < 0.5)
            logits, _ = clf(blur(x[idx], sigma))
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += (logits.argmax(1) == y[idx]).sum().item()
        log(f"classifier epoch {epoch + 1}: training accuracy {correct / len(x):.4f}")
    return clf.eval()


def export(model, example, path, inputs, outputs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    axes = {n: {0: "batch"} for n in inputs + outputs}
    torch.onnx.export(model, example, path, opset_version=17, input_names=inputs, output_names=outputs,
                      dynamic_axes=axes, do_constant_folding=True)


def write_config(folder, name, inputs, outputs):
    def tensors(kind, items):
        rows = ",\n".join(f'  {{ name: "{n}" data_type: TYPE_FP32 dims: [ {", ".join(str(d) for d in dims)} ] }}'
                          for n, dims in items)
        return f"{kind} [\n{rows}\n]\n"
    text = (f'name: "{name}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 256\n'
            + tensors("input", inputs) + tensors("output", outputs)
            + "instance_group [ { count: 1 kind: KIND_AUTO } ]\n"
            + "dynamic_batching { preferred_batch_size: [ 64, 256 ] max_queue_delay_microseconds: 500 }\n")
    with open(os.path.join(folder, "config.pbtxt"), "w") as f:
        f.write(text)


def write_manifest(folder, manifest):
    with open(os.path.join(folder, "genaug.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def psnr(a, b):
    """Per-image PSNR in dB for images in [-1, 1] (peak-to-peak 2)."""
    mse = ((a - b) ** 2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
    return 10 * torch.log10(4.0 / mse)


def to_png_rows(rows):
    grid = torch.cat([torch.cat(list(r), dim=2) for r in rows], dim=1)
    arr = ((grid.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    return Image.fromarray(arr).resize((arr.shape[1] * 2, arr.shape[0] * 2), Image.NEAREST)


def slerp(a, b, t):
    omega = torch.acos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
    so = torch.sin(omega)
    return torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--heldout", required=True)
    p.add_argument("--repository", required=True)
    p.add_argument("--train-seed", type=int, default=1)
    p.add_argument("--heldout-seed", type=int, default=2)
    p.add_argument("--vae-epochs", type=int, default=60)
    p.add_argument("--precision", choices=["auto", "bfloat16", "float32"], default="auto",
                   help="VAE training arithmetic; auto: bfloat16 where the CPU has it natively, else float32")
    p.add_argument("--classifier-epochs", type=int, default=4)
    args = p.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    t0 = time.time()

    def log(msg):
        print(f"[{time.time() - t0:6.0f} s] {msg}", flush=True)

    x, masks, y = load_shards(args.train)
    hx, _, hy = load_shards(args.heldout)
    log(f"loaded {len(x)} training and {len(hx)} held-out renders")

    clf = train_classifier(x, y, args.classifier_epochs, 64, log)
    # Batches of 32: on 2 cores they train more images per second than 16 and still make ~600
    # updates an epoch. In bfloat16, 16 made 1.6 times the updates in 4 minutes and kept no more.
    precision = args.precision if args.precision != "auto" else ("bfloat16" if native_bf16() else "float32")
    log(f"VAE in {precision} ({args.precision})")
    enc, dec = train_vae(x, masks, y, args.vae_epochs, VAE_BATCH, log, bf16=precision == "bfloat16")

    repo = args.repository
    spec = {"dataset": "shapes-parts", "renderer_version": 1, "seed": args.train_seed, "count": len(x)}
    data_hash = hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    with torch.no_grad():
        # Held-out evaluation.
        mu, logvar = enc(hx)
        recon = dec(mu)[0]
        rec_psnr = psnr(recon, hx)
        logits, probs = clf(hx)
        acc = (probs.argmax(1) == hy).float()
        kept = (clf(recon)[1].argmax(1) == hy).float()
        g = torch.Generator().manual_seed(3)
        z = torch.randn(10000, LATENT, generator=g)
        prior_probs = torch.cat([clf(dec(z[i:i + 500])[0])[1] for i in range(0, 10000, 500)])
        confident = (prior_probs.max(1).values >= 0.9).float().mean().item()
        prior_mix = [(prior_probs.argmax(1) == c).float().mean().item() for c in range(3)]
        truth_mix = [(hy == c).float().mean().item() for c in range(3)]
        feats = dec(mu[:2])

    metrics = {
        "reconstruction_psnr_db": rec_psnr.mean().item(),
        "reconstruction_psnr_db_first_200": rec_psnr[:200].mean().item(),
        "classifier_accuracy": acc.mean().item(),
        "classifier_accuracy_first_200": acc[:200].mean().item(),
        "category_kept_after_reconstruction": kept.mean().item(),
        **{f"category_kept_after_reconstruction_{c}": kept[hy == i].mean().item() for i, c in enumerate(CATEGORIES)},
        "prior_confident_share": confident,
        **{f"prior_category_share_{c}": prior_mix[i] for i, c in enumerate(CATEGORIES)},
        **{f"heldout_category_share_{c}": truth_mix[i] for i, c in enumerate(CATEGORIES)},
    }
    log("metrics " + json.dumps(metrics, indent=1))

    names = ["feat_4", "feat_8", "feat_16", "feat_32"]
    strides = [16, 8, 4, 2]
    image_spec = {"width": 64, "height": 64, "channels": 3, "valueMin": -1, "valueMax": 1}
    gen_dir = os.path.join(repo, "shapes-generator")
    export(dec, torch.zeros(2, LATENT), os.path.join(gen_dir, "1", "model.onnx"), ["z"], ["image"] + names)
    write_config(gen_dir, "shapes-generator", [("z", [LATENT])],
                 [("image", [3, 64, 64])] + [(n, [f.shape[1], f.shape[2], f.shape[3]]) for n, f in zip(names, feats[1:])])
    write_manifest(gen_dir, {
        "formatVersion": 1, "role": "MODEL_ROLE_GENERATOR",
        "description": "Decoder of a convolutional beta-VAE trained on shapes-parts (64x64 RGB), with its feature maps.",
        "latent": {"dimension": LATENT, "prior": "PRIOR_STANDARD_NORMAL"},
        "image": image_spec,
        "features": [{"name": n, "channels": f.shape[1], "stride": s} for n, f, s in zip(names, feats[1:], strides)],
        "pairedEncoder": "shapes-encoder",
        "trainingDataHash": data_hash,
        "tensors": {"latent": "z", "image": "image"},
        "metrics": metrics})

    enc_dir = os.path.join(repo, "shapes-encoder")
    export(enc, torch.zeros(2, 3, 64, 64), os.path.join(enc_dir, "1", "model.onnx"), ["image"], ["mu", "logvar"])
    write_config(enc_dir, "shapes-encoder", [("image", [3, 64, 64])], [("mu", [LATENT]), ("logvar", [LATENT])])
    write_manifest(enc_dir, {
        "formatVersion": 1, "role": "MODEL_ROLE_ENCODER",
        "description": "Encoder of the shapes-parts beta-VAE: image -> posterior mean and log-variance.",
        "latent": {"dimension": LATENT, "prior": "PRIOR_STANDARD_NORMAL"},
        "image": image_spec, "pairedGenerator": "shapes-generator", "trainingDataHash": data_hash,
        "tensors": {"image": "image", "mean": "mu", "log_variance": "logvar"},
        "metrics": {k: v for k, v in metrics.items() if k.startswith("reconstruction")}})

    clf_dir = os.path.join(repo, "shapes-classifier")
    export(clf, torch.zeros(2, 3, 64, 64), os.path.join(clf_dir, "1", "model.onnx"), ["image"], ["logits", "probabilities"])
    write_config(clf_dir, "shapes-classifier", [("image", [3, 64, 64])], [("logits", [3]), ("probabilities", [3])])
    write_manifest(clf_dir, {
        "formatVersion": 1, "role": "MODEL_ROLE_CLASSIFIER",
        "description": "Category classifier of shapes-parts renders, the judge of fidelity and label consistency.",
        "image": image_spec, "classNames": CATEGORIES, "trainingDataHash": data_hash,
        "tensors": {"image": "image", "logits": "logits", "probabilities": "probabilities"},
        "metrics": {k: v for k, v in metrics.items() if k.startswith("classifier")}})

    with torch.no_grad():
        steps = torch.linspace(0, 1, 8)
        path = torch.stack([slerp(mu[0], mu[5], t) for t in steps])
        picture = to_png_rows([hx[:8], recon[:8], dec(z[:8])[0], dec(path)[0]])
    picture.save(os.path.join(repo, "shapes-card.png"))
    with open(os.path.join(repo, "shapes-metrics.json"), "w") as f:
        json.dump({"training_data": spec, "training_data_hash": data_hash, "heldout_seed": args.heldout_seed,
                   "heldout_count": len(hx), "vae_epochs": args.vae_epochs, "vae_batch": VAE_BATCH,
                   "vae_precision": "bfloat16 autocast" if precision == "bfloat16" else "float32",
                   "metrics": metrics, "seconds": time.time() - t0}, f, indent=2)
    log("done")


if __name__ == "__main__":
    main()
