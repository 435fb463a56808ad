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
import inspect
import json
import math
import os
import tarfile
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

LATENT = 32
CHANNELS = (24, 48, 96, 192)
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
# The decoder draws the object upright and centred on a canonical canvas and places it in the
# picture with a pose read from z (see Decoder). Two more training aids teach it where: the pose
# head read on the posterior mean is held to the render's true pose (squared error in units of
# each factor's standard deviation, this weight), and the placed canvas's coverage to the object's
# true mask (binary cross-entropy summed over pixels, this weight). Neither is exported.
POSE_WEIGHT = 1e5
MASK_WEIGHT = 10.0
# Half-width of the canonical canvas in the renderer's object units: it draws every part within
# 1.4 object units (scale pixels each) of the object's centre.
CANVAS_EXTENT = 1.45


def load_shards(folder):
    """Images as float32 [N, 3, 64, 64] in [-1, 1], masks uint8 [N, 64, 64], categories int64 [N],
    poses float32 [N, 4] (centre x and y in pixels, log of the scale in pixels, rotation in degrees)."""
    images, masks, cats, poses = [], [], [], []
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
                scene = meta["scene"]
                cats.append(scene.get("category", 0))
                # Protobuf's JSON leaves out fields that are zero.
                poses.append([scene.get("centerX", 0.0), scene.get("centerY", 0.0),
                              math.log(scene["scale"]), scene.get("rotationDegrees", 0.0)])
    x = np.stack(images).astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0
    return (torch.from_numpy(x), torch.from_numpy(np.stack(masks)), torch.tensor(cats, dtype=torch.int64),
            torch.tensor(poses, dtype=torch.float32))


class PoseHead:
    """A linear pose head (self.pose) trained in standardised units (the buffers pose_scale and
    pose_shift), which fold_pose moves into the head, so the exported graph has no trace of them."""

    def read_pose(self, h):
        """Centre x, y (pixels), log scale (pixels per object unit), rotation (degrees)."""
        return self.pose(h).float() * self.pose_scale + self.pose_shift

    def start_pose(self, shift, scale):
        """The head starts at the mean pose (shift) and learns in units of each factor's spread."""
        self.pose_shift.copy_(shift)
        self.pose_scale.copy_(scale)
        nn.init.zeros_(self.pose.weight)
        nn.init.zeros_(self.pose.bias)

    def fold_pose(self):
        with torch.no_grad():
            self.pose.weight.mul_(self.pose_scale.view(-1, 1))
            self.pose.bias.mul_(self.pose_scale).add_(self.pose_shift)
            self.pose_scale.fill_(1)
            self.pose_shift.fill_(0)


def pose_frame(pose, size):
    """The object's centre in the picture and half the canvas's width ([-1, 1] units), its rotation
    (radians), and the centres of a size-pixel grid's cells in [-1, 1]."""
    cx, cy = pose[:, 0:1] / 32 - 1, pose[:, 1:2] / 32 - 1
    half = CANVAS_EXTENT * torch.exp(pose[:, 2:3]) / 32
    angle = pose[:, 3:4] * (math.pi / 180)
    lin = (torch.arange(size, dtype=torch.float32) + 0.5) * (2 / size) - 1
    return cx, cy, half, angle, lin


class Encoder(PoseHead, nn.Module):
    """image -> posterior mean and log-variance.

    With canonical = True (the reference model's encoder since 2026-12) it also reads the
    object's pose from the picture, cuts the object out upright, centred and at one size (the
    decoder's canonical canvas, sampled from the picture), and adds what a second CNN reads from
    that crop: small parts such as windows and fruit sit at the same place of the crop whatever the
    object's pose, where a plain CNN has to find them anywhere in the picture at any angle.
    """

    def __init__(self, canonical=False):
        super().__init__()
        c1, c2, c3, c4 = CHANNELS
        self.canonical = canonical
        self.net = nn.Sequential(
            nn.Conv2d(3, c1, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c1, c2, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c2, c3, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c3, c4, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(c4 * 16, 2 * LATENT))
        if canonical:
            self.pose = nn.Linear(c4 * 16, 4)
            self.crop_net = nn.Sequential(
                nn.Conv2d(3, c1, 3, 1, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(c1, c2, 4, 2, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(c2, c3, 4, 2, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(c3, c3, 4, 2, 1), nn.LeakyReLU(0.2),
                nn.Flatten(), nn.Linear(c3 * 16, 2 * LATENT))
            self.register_buffer("pose_scale", torch.ones(4), persistent=False)
            self.register_buffer("pose_shift", torch.zeros(4), persistent=False)

    @staticmethod
    def crop_grid(pose, size):
        """For each pixel of a size x size canonical canvas, where it falls in the picture ([-1, 1]):
        the inverse of Decoder.canvas_grid."""
        cx, cy, half, angle, lin = pose_frame(pose, size)
        v, u = torch.meshgrid(lin, lin, indexing="ij")
        u, v = u.reshape(1, -1), v.reshape(1, -1)
        cos, sin = torch.cos(angle), torch.sin(angle)
        px = cx + half * (cos * u - sin * v)
        py = cy + half * (sin * u + cos * v)
        return torch.stack([px, py], -1).view(-1, size, size, 2)

    def forward(self, image):
        if not self.canonical:
            h = self.net(image)
            return h[:, :LATENT], h[:, LATENT:]
        features = self.net[:-1](image)
        self.pose_estimate = self.read_pose(features)  # held to the true pose in training
        crop = F.grid_sample(image.float(), self.crop_grid(self.pose_estimate, 32), align_corners=False)
        h = self.net[-1](features) + self.crop_net(crop)
        return h[:, :LATENT], h[:, LATENT:]


class Decoder(PoseHead, nn.Module):
    """z -> image in [-1, 1] and the feature maps at strides 8, 8, 4 and 2.

    Object-centred (a spatial transformer): convolutions draw the object upright, centred and at
    one size on a 32x32 canonical canvas (colour premultiplied by coverage), a linear pose head
    reads from z where the object sits in the picture (centre, log scale, rotation), and the
    canvas is warped there by bilinear sampling, over a flat background colour also read from z.
    Thin parts (wheels, trunks) are large on the canvas, and no convolution has to learn to draw
    a shape at every position and angle. The feature maps are the canvas-frame levels warped into
    the picture's frame (the 4x4 and 8x8 ones on an 8x8 grid, the others on a grid of their own
    size), so they line up with the image's pixels, as a labeller needs; the 32x32 one also
    carries the canvas's coverage (its last channel). Each level doubles the
    resolution by nearest-neighbour upsampling and a 3x3 convolution (2.5 times faster than
    transposed convolutions on 2 cores with Debian's torch).

    With layers = N >= 1 the canvas is N layers composited back to front instead, each an
    opacity map drawn by the convolutions and one colour read linearly from z: a layer cannot
    paint two colours, so the differently coloured parts of an object fall into different layers,
    and which layer shows at a pixel tells which part is there. Nothing names the parts to the
    model. The 32x32 feature map then carries each layer's visibility before the coverage.
    The reference model has 4 layers (shapes-parts objects have at most four parts, each of one
    colour) since 2026-12; measured in docs/labelling-experiments.md.
    """

    def __init__(self, layers=0):
        super().__init__()
        self.layers = layers
        c1, c2, c3, c4 = CHANNELS
        self.fc = nn.Linear(LATENT, c4 * 16)
        self.up8 = nn.Conv2d(c4, c3, 3, 1, 1)
        self.up16 = nn.Conv2d(c3, c2, 3, 1, 1)
        self.up32 = nn.Conv2d(c2, c1, 3, 1, 1)
        self.refine = nn.Conv2d(c1, c1, 3, 1, 1)  # a residual convolution on the canvas
        if layers == 0:
            self.out = nn.Conv2d(c1, 4, 3, 1, 1)  # colour and coverage on the canvas
        else:
            self.out = nn.Conv2d(c1, layers, 3, 1, 1)  # each layer's opacity on the canvas
            self.colours = nn.Linear(LATENT, 3 * layers)  # each layer's one colour
        self.pose = nn.Linear(LATENT, 4)
        self.background = nn.Linear(LATENT, 3)
        # Training reads the pose in standardised units (fold_pose moves these into the head).
        self.register_buffer("pose_scale", torch.ones(4), persistent=False)
        self.register_buffer("pose_shift", torch.zeros(4), persistent=False)

    @staticmethod
    def canvas_grid(pose, size):
        """For each pixel of a size x size map of the picture, where it falls on the canvas ([-1, 1])."""
        cx, cy, half, angle, lin = pose_frame(pose, size)
        py, px = torch.meshgrid(lin, lin, indexing="ij")
        dx, dy = px.reshape(1, -1) - cx, py.reshape(1, -1) - cy
        cos, sin = torch.cos(angle), torch.sin(angle)
        u = (cos * dx + sin * dy) / half
        v = (cos * dy - sin * dx) / half
        return torch.stack([u, v], -1).view(-1, size, size, 2)

    def render(self, z, features=True):
        """Image, coverage [N, 1, 64, 64] and (with features) the four placed feature maps."""
        def up(conv, h):
            return F.leaky_relu(conv(F.interpolate(h, scale_factor=2, mode="nearest")), 0.2)

        def place(t, size):
            return F.grid_sample(t.float(), self.canvas_grid(pose, size), align_corners=False)

        c4 = F.leaky_relu(self.fc(z).view(-1, CHANNELS[3], 4, 4), 0.2)
        c8 = up(self.up8, c4)
        c16 = up(self.up16, c8)
        c32 = up(self.up32, c16)
        c32 = c32 + F.leaky_relu(self.refine(c32), 0.2)
        # Each branch reads the pose where it always did: the traced graph's node order, and so
        # the exported file's bytes, stay those of the model it reproduces.
        if self.layers == 0:
            o = self.out(c32).float().contiguous()
            alpha = torch.sigmoid(o[:, 3:])
            canvas_maps = [alpha]
            pose = self.read_pose(z)
            placed = place(torch.cat([torch.tanh(o[:, :3]) * alpha, alpha], 1), 64)
        else:
            opacity = torch.sigmoid(self.out(c32).float())
            if self.training:
                self.opacity = opacity  # read by train_vae's --crisp term
            # Layer k shows where it is opaque and no later layer covers it; the coverage is what
            # all layers together cover, 1 - prod(1 - opacity).
            shown, uncovered = [], torch.ones_like(opacity[:, :1])
            for k in reversed(range(self.layers)):
                shown.append(opacity[:, k:k + 1] * uncovered)
                uncovered = uncovered * (1 - opacity[:, k:k + 1])
            visibility = torch.cat(shown[::-1], 1)
            alpha = 1 - uncovered
            canvas_maps = [visibility, alpha]
            colours = torch.tanh(self.colours(z).float()).view(-1, self.layers, 3, 1, 1)
            pose = self.read_pose(z)
            placed = place(torch.cat([(visibility.unsqueeze(2) * colours).sum(1), alpha], 1), 64)
        coverage = placed[:, 3:]
        background = torch.tanh(self.background(z).float()).view(-1, 3, 1, 1)
        image = placed[:, :3] + (1 - coverage) * background
        # The 4x4 canvas level is sampled on an 8x8 grid of the picture: the object covers part of
        # the picture, so a 4x4 grid holds about one sample of it. Labellers trained on few
        # annotations gain most from that (docs/labelling-experiments.md, Feature grids). The
        # finest level carries the canvas's coverage as one more channel (after the layers'
        # visibilities, if any): where the decoder drew the object, which such labellers
        # otherwise find less well.
        if not features:
            return image, coverage, ()
        maps = (place(c4, 8), place(c8, 8), place(c16, 16),
                place(torch.cat([c32.float()] + canvas_maps, 1), 32))
        return image, coverage, maps

    def forward(self, z):
        image, _, maps = self.render(z)
        return (image,) + maps

    def image(self, z):
        """The image alone, without warping the feature maps (evaluation and pictures)."""
        return self.render(z, features=False)[0]


class Classifier(nn.Module):
    """The judge. BatchNorm after each convolution: without it, trained alike, it predicted the
    majority category for its first two epochs and ended at 97.4% on held-out renders on one
    machine and 98.4% on another; with it 99.5%."""

    def __init__(self):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU()]

        self.net = nn.Sequential(
            *block(3, 16), nn.MaxPool2d(2),
            *block(16, 32), nn.MaxPool2d(2),
            *block(32, 64), nn.MaxPool2d(2),
            *block(64, 64), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(64, len(CATEGORIES)))

    def forward(self, image):
        logits = self.net(image)
        return logits, torch.softmax(logits, dim=1)


def train_vae(x, masks, y, poses, epochs, batch, log, bf16=True, layers=0, crisp=0.0, canonical=False):
    """Trains in bfloat16 autocast on channels-last tensors (weights, loss and optimiser stay in
    float32). Measured on 2 cores with AVX512-BF16, batch 32: 30 ms a step against 94 ms in plain
    float32, so the same time budget makes three times the updates, which is what this model is
    limited by. Without native bfloat16 the CPU emulates it, slower than float32: see --precision."""
    enc, dec = Encoder(canonical), Decoder(layers)
    readout = nn.Linear(LATENT, len(CATEGORIES))  # training aid only, not exported
    shift, scale = poses.mean(0), poses.std(0)
    dec.start_pose(shift, scale)
    if canonical:
        enc.start_pose(shift, scale)
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
        totals = [0.0] * 5
        for i in range(0, per_epoch * batch, batch):
            # Cosine learning-rate decay over the whole run.
            frac = step / total
            for group in opt.param_groups:
                group["lr"] = 1e-4 + 0.5 * (1e-3 - 1e-4) * (1 + math.cos(math.pi * frac))
            idx = perm[i:i + batch]
            xb = x[idx].contiguous(memory_format=torch.channels_last) if bf16 else x[idx]
            object_pixels = (masks[idx] > 0).float().unsqueeze(1)
            weight = 1.0 + (FOREGROUND_WEIGHT - 1.0) * object_pixels
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                mu, logvar = enc(xb)
                mu, logvar = mu.float(), logvar.float()
                z = mu + torch.randn(mu.shape, generator=g) * torch.exp(0.5 * logvar)
                recon, coverage, _ = dec.render(z, features=False)
            rec = (weight * (recon - xb) ** 2).sum(dim=(1, 2, 3)).mean() / (2 * RECON_SIGMA ** 2)
            kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(dim=1).mean()
            category = F.cross_entropy(readout(mu), y[idx], label_smoothing=CATEGORY_SMOOTHING)
            pose = (((dec.read_pose(mu) - poses[idx]) / scale) ** 2).sum(dim=1).mean()
            mask = F.binary_cross_entropy(coverage.clamp(1e-6, 1 - 1e-6), object_pixels,
                                          reduction="none").sum(dim=(1, 2, 3)).mean()
            loss = rec + BETA * kl + CATEGORY_WEIGHT * category + POSE_WEIGHT * pose + MASK_WEIGHT * mask
            if crisp > 0:
                # Each layer's opacity pushed towards 0 or 1, so that a pixel shows one layer's colour
                # instead of a blend, which could imitate another part's colour. Ramped in over the
                # first half of the run, so the layers take their shapes before they harden.
                loss = loss + crisp * min(1.0, 2 * frac) * (dec.opacity * (1 - dec.opacity)).sum(dim=(1, 2, 3)).mean()
            if canonical:
                loss = loss + POSE_WEIGHT * (((enc.pose_estimate - poses[idx]) / scale) ** 2).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            for k, v in enumerate((rec, kl, category, pose, mask)):
                totals[k] += v.item()
            step += 1
        t = [v / per_epoch for v in totals]
        log(f"vae epoch {epoch}: reconstruction {t[0]:.1f} nats, KL {t[1]:.1f} nats, category read-out {t[2]:.3f} nats, "
            f"pose {t[3]:.3f}, mask {t[4]:.1f} nats, {time.time() - start:.0f} s")
    dec.fold_pose()
    if canonical:
        enc.fold_pose()
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


def train_classifier(x, y, epochs, batch, log, bf16=True):
    """The judge learns the category from shape: half of its training images get a random blur
    (sigma up to 1.5 px), so softer images, like a generator's, are judged by their shape. The
    learning rate decays to zero over the run (cosine), so the last epoch's weights are settled.
    Like the VAE, in bfloat16 autocast on channels-last tensors where the CPU has it: 16 s an epoch
    against 33 s in float32 on 2 cores, and 99.85% on held-out renders against 99.5%."""
    clf = Classifier()
    if bf16:
        clf = clf.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(2)
    for epoch in range(epochs):
        clf.train()
        perm = torch.randperm(len(x), generator=g)
        correct = 0
        for i in range(0, len(x), batch):
            frac = (epoch * len(x) + i) / (epochs * len(x))
            for group in opt.param_groups:
                group["lr"] = 0.5 * 2e-3 * (1 + math.cos(math.pi * frac))
            idx = perm[i:i + batch]
            sigma = torch.rand(len(idx), generator=g) * 1.5 * (torch.rand(len(idx), generator=g) < 0.5)
            xb = blur(x[idx], sigma)
            if bf16:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits, _ = clf(xb)
            loss = F.cross_entropy(logits.float(), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += (logits.argmax(1) == y[idx]).sum().item()
        log(f"classifier epoch {epoch + 1}: training accuracy {correct / len(x):.4f}")
    return clf.to(memory_format=torch.contiguous_format).eval()


def export(model, example, path, inputs, outputs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    axes = {n: {0: "batch"} for n in inputs + outputs}
    # The TorchScript exporter, which made the committed files: newer torch defaults to the dynamo
    # exporter, which cannot keep opset 17 for every model and writes the weights to a side file.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, example, path, opset_version=17, input_names=inputs, output_names=outputs,
                      dynamic_axes=axes, do_constant_folding=True, **legacy)
    # The exporter cannot infer the sizes behind GridSample; state every output's (all but the
    # batch axis are fixed), so that runtimes and config checks see them.
    with torch.no_grad():
        shapes = [t.shape for t in model(example)]
    graph = onnx.load(path)
    for out, shape in zip(graph.graph.output, shapes):
        for dim, size in list(zip(out.type.tensor_type.shape.dim, shape))[1:]:
            dim.ClearField("dim_param")
            dim.dim_value = size
    onnx.checker.check_model(graph)
    # One self-contained file (the weights are a few MB), whatever the exporter wrote beside it.
    onnx.save(graph, path, save_as_external_data=False)
    if os.path.exists(path + ".data"):
        os.remove(path + ".data")


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
    p.add_argument("--vae-epochs", type=int, default=45)
    p.add_argument("--precision", choices=["auto", "bfloat16", "float32"], default="auto",
                   help="training arithmetic of the classifier and the VAE; auto: bfloat16 where the CPU has it natively, else float32")
    p.add_argument("--classifier-epochs", type=int, default=6)
    p.add_argument("--layers", type=int, default=0,
                   help="0: the canvas in per-pixel colour and one coverage (the reference model before 2026-12); N >= 1: N flat-coloured layers (the reference model: 4)")
    p.add_argument("--crisp", type=float, default=0.0,
                   help="with --layers: weight of a term pushing each layer's opacity towards 0 or 1 (the reference model: 20)")
    p.add_argument("--canonical-encoder", action=argparse.BooleanOptionalAction, default=False,
                   help="the encoder also reads the object from a crop at its estimated pose (the reference model does)")
    args = p.parse_args()
    if args.layers < 0:
        p.error(f"--layers must be >= 0, got {args.layers}")
    if args.crisp < 0 or (args.crisp > 0 and args.layers == 0):
        p.error(f"--crisp must be >= 0 and needs --layers, got {args.crisp} with --layers {args.layers}")
    torch.set_num_threads(2)
    torch.manual_seed(0)
    t0 = time.time()

    def log(msg):
        print(f"[{time.time() - t0:6.0f} s] {msg}", flush=True)

    x, masks, y, poses = load_shards(args.train)
    hx, _, hy, _ = load_shards(args.heldout)
    log(f"loaded {len(x)} training and {len(hx)} held-out renders")

    precision = args.precision if args.precision != "auto" else ("bfloat16" if native_bf16() else "float32")
    log(f"classifier and VAE in {precision} ({args.precision})")
    clf = train_classifier(x, y, args.classifier_epochs, 64, log, bf16=precision == "bfloat16")
    # Batches of 32: on 2 cores they train more images per second than 16 and still make ~600
    # updates an epoch. In bfloat16, 16 made 1.6 times the updates in 4 minutes and kept no more.
    enc, dec = train_vae(x, masks, y, poses, args.vae_epochs, VAE_BATCH, log, bf16=precision == "bfloat16",
                         layers=args.layers, crisp=args.crisp, canonical=args.canonical_encoder)

    repo = args.repository
    spec = {"dataset": "shapes-parts", "renderer_version": 1, "seed": args.train_seed, "count": len(x)}
    data_hash = hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    with torch.no_grad():
        # Held-out evaluation.
        mu, logvar = enc(hx)
        recon = dec.image(mu)
        rec_psnr = psnr(recon, hx)
        logits, probs = clf(hx)
        acc = (probs.argmax(1) == hy).float()
        kept = (clf(recon)[1].argmax(1) == hy).float()
        g = torch.Generator().manual_seed(3)
        z = torch.randn(10000, LATENT, generator=g)
        prior_probs = torch.cat([clf(dec.image(z[i:i + 500]))[1] for i in range(0, 10000, 500)])
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
        # A level's stride: the picture's size over the grid render() samples it on.
        "features": [{"name": n, "channels": f.shape[1], "stride": 64 // f.shape[3]} for n, f in zip(names, feats[1:])],
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
        # Exported with the generator's version 1 above: images are encoded for that version.
        "image": image_spec, "pairedGenerator": "shapes-generator", "pairedGeneratorVersion": "1",
        "trainingDataHash": data_hash,
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
        picture = to_png_rows([hx[:8], recon[:8], dec.image(z[:8]), dec.image(path)])
    picture.save(os.path.join(repo, "shapes-card.png"))
    with open(os.path.join(repo, "shapes-metrics.json"), "w") as f:
        json.dump({"training_data": spec, "training_data_hash": data_hash, "heldout_seed": args.heldout_seed,
                   "heldout_count": len(hx), "vae_epochs": args.vae_epochs, "vae_batch": VAE_BATCH,
                   "vae_precision": "bfloat16 autocast" if precision == "bfloat16" else "float32",
                   "decoder_layers": args.layers, "crisp": args.crisp, "canonical_encoder": args.canonical_encoder,
                   "metrics": metrics, "seconds": time.time() - t0}, f, indent=2)
    log("done")


if __name__ == "__main__":
    main()
