"""A GetViews client written the way a training loop outside genaug would write one: Debian's grpcio,
messages compiled from genaug's protos by Debian's protoc (--python_out), and grpcio's generic
unary_stream call (no generated gRPC stubs).

    python3 src/clients/python/getviews.py --target localhost:8080 --inputs 4 --views 2

Prints one JSON object describing what came back. The latents it sends are drawn here, with a fixed
NumPy-free generator, so that a caller can reproduce the request exactly.
"""
import argparse
import base64
import hashlib
import importlib
import json
import os
import random
import subprocess
import sys
import tempfile

import grpc


def compile_protos(root, out):
    protos = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(root, "proto")) for f in files
              if f.endswith(".proto")]
    subprocess.run(["protoc", "-I", os.path.join(root, "proto"), "--python_out", out] + protos, check=True)
    # The generated packages (genaug/gateway/v1/...) need __init__.py files to import on old Pythons.
    for d, _, _ in os.walk(out):
        open(os.path.join(d, "__init__.py"), "a").close()
    sys.path.insert(0, out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True)
    p.add_argument("--model", default="shapes-generator")
    p.add_argument("--inputs", type=int, default=4)
    p.add_argument("--views", type=int, default=2)
    p.add_argument("--sigma", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--dimension", type=int, default=32)
    args = p.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    with tempfile.TemporaryDirectory() as out:
        compile_protos(root, out)
        gateway = importlib.import_module("genaug.gateway.v1.gateway_pb2")
        common = importlib.import_module("genaug.common.v1.common_pb2")

        rng = random.Random(args.seed)
        request = gateway.GetViewsRequest(
            model=common.ModelRef(name=args.model), views_per_input=args.views, sigma=args.sigma, seed=args.seed)
        for _ in range(args.inputs):
            request.latents.append(common.Latent(values=[rng.gauss(0, 1) for _ in range(args.dimension)]))

        with grpc.insecure_channel(args.target, options=[("grpc.max_receive_message_length", 64 << 20)]) as channel:
            call = channel.unary_stream(
                "/genaug.gateway.v1.AugmentService/GetViews",
                request_serializer=gateway.GetViewsRequest.SerializeToString,
                response_deserializer=gateway.ViewBatch.FromString)
            try:
                batches = list(call(request, timeout=120))
            except grpc.RpcError as e:
                print(json.dumps({"code": e.code().name, "details": e.details()}))
                return 0

        inputs = [i for b in batches for i in b.inputs]
        print(json.dumps({
            "code": "OK",
            "request_base64": base64.b64encode(request.SerializeToString()).decode("ascii"),
            "batches": len(batches),
            "first_inputs": [b.first_input for b in batches],
            "inputs": len(inputs),
            "views_per_input": [len(i.views) for i in inputs],
            "png_signatures_ok": all(v.png[:8] == b"\x89PNG\r\n\x1a\n" for i in inputs for v in i.views),
            "latents_shape": list(inputs[0].latents.shape) if inputs else [],
            "view_sha256": [hashlib.sha256(v.png).hexdigest() for i in inputs for v in i.views],
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
