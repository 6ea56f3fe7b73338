#!/usr/bin/env python3
"""Walks a picture book through the saved story_frame_sdxl workflow with Debian's grpcio: uploads the first frame (the
layout of the scene), the character's face and a style reference once with Assets.Upload, then generates each next
frame with one Workflows.Run whose overrides are the frame's prompt, its seed and the previous frame (depth ControlNet),
while the two IP-Adapters (face 0.7, style 0.4) keep the character and the look. Prints one JSON line per frame.

Usage: story_frames.py --address HOST:PORT --protos DIR --test-protos DIR --api-protos DIR
       --first-frame layout.png --face face.png --style style.png [--prompts P1 P2 P3] [--out DIR]
       [--set NODE.INPUT=VALUE ...]   (e.g. --set 1.ckpt_name=my_sdxl.safetensors --set 15.width=768)
"""
import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import generate_stubs  # noqa: E402  (the same stub generation as the main client)

import grpc  # noqa: E402


def upload(assets, assets_pb2, path):
    """Stores a file with Assets.Upload (64 KiB chunks) and returns its asset id."""
    with open(path, "rb") as f:
        data = f.read()

    def chunks():
        yield assets_pb2.UploadAssetRequest(file_name=os.path.basename(path), content_type="image/png", chunk=data[:65536])
        for start in range(65536, len(data), 65536):
            yield assets_pb2.UploadAssetRequest(chunk=data[start:start + 65536])

    return assets.Upload(chunks(), timeout=60).asset_id


def typed_override(pb, assignment):
    """NODE.INPUT=VALUE → an InputOverride; the value's type is read from its text (int, float, true/false, else string)."""
    target, _, text = assignment.partition("=")
    for kind, convert in (("int_value", int), ("double_value", float)):
        try:
            return pb.InputOverride(input=target, **{kind: convert(text)})
        except ValueError:
            pass
    if text in ("true", "false"):
        return pb.InputOverride(input=target, bool_value=text == "true")
    return pb.InputOverride(input=target, string_value=text)


def main():
    parser = argparse.ArgumentParser()
    for name in ("--address", "--protos", "--test-protos", "--api-protos", "--first-frame", "--face", "--style"):
        parser.add_argument(name, required=True)
    parser.add_argument("--workflow", default="story_frame_sdxl", help="the saved workflow's name on the server")
    parser.add_argument("--prompts", nargs="*", default=[
        "the girl walks into the forest clearing, picture book illustration",
        "the girl meets a fox by the old oak, picture book illustration",
        "the girl and the fox watch the sunset from the hill, picture book illustration"])
    parser.add_argument("--seed", type=int, default=1, help="frame k uses seed + k")
    parser.add_argument("--set", action="append", default=[], help="NODE.INPUT=VALUE for every frame (model names, size, steps)")
    parser.add_argument("--out", default="", help="a folder to keep the frames (PNG)")
    args = parser.parse_args()

    stubs = tempfile.mkdtemp(prefix="cg-py-story-")
    atexit.register(shutil.rmtree, stubs, ignore_errors=True)
    generate_stubs(args.protos, args.test_protos, args.api_protos, stubs)
    from charactergen.v1 import assets_pb2, assets_pb2_grpc, workflows_pb2 as pb, workflows_pb2_grpc

    channel = grpc.insecure_channel(args.address)
    assets = assets_pb2_grpc.AssetsStub(channel)
    workflows = workflows_pb2_grpc.WorkflowsStub(channel)
    face, style = upload(assets, assets_pb2, args.face), upload(assets, assets_pb2, args.style)
    previous = f"{upload(assets, assets_pb2, args.first_frame)} [asset]"  # LoadImage reads an uploaded asset by id
    fixed = [typed_override(pb, s) for s in args.set]
    if args.out:
        os.makedirs(args.out, exist_ok=True)

    for k, prompt in enumerate(args.prompts, start=1):
        overrides = [pb.InputOverride(input="4.image", string_value=previous),
                     pb.InputOverride(input="11.image", string_value=f"{face} [asset]"),
                     pb.InputOverride(input="12.image", string_value=f"{style} [asset]"),
                     pb.InputOverride(input="2.text", string_value=prompt),
                     pb.InputOverride(input="16.seed", int_value=args.seed + k), *fixed]
        request = pb.RunRequest(submit=pb.SubmitRequest(workflow=pb.WorkflowSpec(saved_workflow=args.workflow, overrides=overrides)),
                                inline_outputs=bool(args.out))
        last = None
        for event in workflows.Run(request, timeout=3600):
            last = event
            if event.HasField("node_progress") and event.node_progress.max > 0:
                p = event.node_progress
                print(json.dumps({"frame": k, "node": p.node_id, "progress": [p.value, p.max]}), flush=True)
        kind = last.WhichOneof("event")
        if kind != "succeeded":
            print(json.dumps({"frame": k, "ended": kind, "error": str(getattr(last, kind))}), flush=True)
            return 1
        saved = [f for f in last.succeeded.files if f.node_id == "18"][0]
        name = f"{saved.subfolder}/{saved.filename}" if saved.subfolder else saved.filename
        kept = None
        if args.out:
            kept = os.path.join(args.out, f"frame_{k}.png")
            with open(kept, "wb") as f:
                f.write(saved.content)
        print(json.dumps({"frame": k, "job_id": last.job_id, "from": previous, "saved": name, "kept": kept}), flush=True)
        previous = f"{name} [output]"  # the next frame's depth comes from this one, as ComfyUI's annotated name
    return 0


if __name__ == "__main__":
    sys.exit(main())
