"""The baseline a user would otherwise write: the reference decoder in PyTorch eager mode.

Builds the decoder class of train.py, loads its weights from the committed ONNX file (so both
runtimes run the very same network), and times z -> image at the given batch sizes. Prints one JSON
object: {"<batch>": {"img_s": ..., "p50_ms": ..., "p99_ms": ...}, ...}.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402  (the model definitions)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, help="shapes-generator/1/model.onnx")
    p.add_argument("--batches", default="1,16,64")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    dec = train.Decoder().eval()
    weights = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in onnx.load(args.model).graph.initializer}
    state = dec.state_dict()
    missing = [k for k in state if k not in weights]
    if missing:
        raise SystemExit(f"ONNX file lacks weights {missing}")
    dec.load_state_dict({k: weights[k] for k in state})
    out = {}
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for batch in [int(b) for b in args.batches.split(",")]:
            z = torch.randn(batch, train.LATENT, generator=g)
            for _ in range(10):
                dec(z)
            lat = []
            start = time.perf_counter()
            while time.perf_counter() - start < args.seconds:
                t = time.perf_counter()
                image = dec(z)[0]
                _ = image.numpy().copy()  # the caller gets an array, as with the other runtimes
                lat.append((time.perf_counter() - t) * 1000)
            elapsed = time.perf_counter() - start
            out[str(batch)] = {"img_s": batch * len(lat) / elapsed, "p50_ms": float(np.percentile(lat, 50)),
                               "p99_ms": float(np.percentile(lat, 99))}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
