#!/usr/bin/env python3
"""Walks the whole character flow through charactergen.v1.Characters with Debian's grpcio: create, regenerate,
approve, generate a training set (watching its progress), delete one image and regenerate another, train (watching
step, loss and ETA), then render three scenes. Prints one JSON line per observation and a final summary line.
Usage: character_flow.py --address HOST:PORT --protos DIR --test-protos DIR --api-protos DIR [--images 6] [--steps 4]
(--help lists the rest: the description, variation and scene prompts, training settings, and --out to keep the pictures)."""
import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import generate_stubs  # noqa: E402  (the same stub generation as the main client)

import grpc  # noqa: E402


def watch_until_idle(characters, pb, character_id):
    """Prints every event of a Watch with until_idle and returns the state changes seen."""
    changes = []
    for event in characters.Watch(pb.WatchCharacterRequest(character_id=character_id, until_idle=True), timeout=1800):
        kind = event.WhichOneof("event")
        if kind == "state_changed":
            change = (pb.CharacterState.Name(getattr(event.state_changed, "from")), pb.CharacterState.Name(event.state_changed.to))
            changes.append(change)
            print(json.dumps({"state_changed": change, "message": event.state_changed.message}), flush=True)
        elif kind == "training_set_progress":
            print(json.dumps({"training_set": [event.training_set_progress.done, event.training_set_progress.total]}), flush=True)
        elif kind == "training_progress":
            t = event.training_progress
            print(json.dumps({"training_step": t.step, "total_steps": t.total_steps, "loss": t.loss, "eta_seconds": t.eta_seconds}), flush=True)
    return changes


def save(folder, name, image):
    """Writes an inline image (ImageRef.content) to FOLDER/NAME.png when --out is given; returns the path or None."""
    if not folder:
        return None
    path = os.path.join(folder, name + ".png")
    with open(path, "wb") as f:
        f.write(image.content)
    return path


def main():
    parser = argparse.ArgumentParser()
    for name in ("--address", "--protos", "--test-protos", "--api-protos"):
        parser.add_argument(name, required=True)
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--steps", type=int, default=4, help="training steps")
    parser.add_argument("--rank", type=int, default=4)
    parser.add_argument("--alpha", type=float, default=0, help="0 = the service's default")
    parser.add_argument("--learning-rate", type=float, default=0, help="0 = the service's default")
    parser.add_argument("--description", default="a knight with red hair")
    parser.add_argument("--trigger", default="", help="the character's trigger word; empty = the service picks one")
    parser.add_argument("--variations", nargs="*", default=["character in battle pose"], help="custom variation prompts")
    parser.add_argument("--variation-strength", type=float, default=0, help="0 = the service's default")
    parser.add_argument("--regenerate-prompt", default="character waving", help="the new prompt of the regenerated training image")
    parser.add_argument("--scenes", nargs="*", default=["in a forest", "on a beach", "in a city at night"])
    parser.add_argument("--out", default="", help="a folder for the approved base image and the scenes (PNG)")
    parser.add_argument("--without-lora", action="store_true", help="also render each scene with the LoRA all but off")
    args = parser.parse_args()

    stubs = tempfile.mkdtemp(prefix="cg-py-characters-")
    atexit.register(shutil.rmtree, stubs, ignore_errors=True)
    generate_stubs(args.protos, args.test_protos, args.api_protos, stubs)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", args.protos, "-I", args.api_protos,
                    "--python_out", stubs, "--grpc_python_out", stubs, "charactergen/v1/characters.proto"], check=True)
    from charactergen.v1 import characters_pb2 as pb, characters_pb2_grpc
    from google.protobuf.wrappers_pb2 import Int64Value

    inline = bool(args.out)
    characters = characters_pb2_grpc.CharactersStub(grpc.insecure_channel(args.address))
    created = characters.Create(pb.CreateCharacterRequest(description=args.description, trigger_word=args.trigger, render=pb.RenderSettings(seed=Int64Value(value=7))))
    character_id = created.character.character_id
    print(json.dumps({"created": character_id, "seed": created.candidate.seed}), flush=True)
    second = characters.Regenerate(pb.RegenerateRequest(character_id=character_id, render=pb.RenderSettings(seed=Int64Value(value=8)),
                                                        inline_images=inline))
    candidates = characters.ListCandidates(pb.ListCandidatesRequest(character_id=character_id)).candidates
    characters.Approve(pb.ApproveRequest(character_id=character_id, candidate_id=second.candidate.candidate_id))
    approved = save(args.out, "approved", second.candidate.image)

    characters.GenerateTrainingSet(pb.GenerateTrainingSetRequest(character_id=character_id, count=args.images,
                                                                 custom_prompts=args.variations, variation_strength=args.variation_strength,
                                                                 render=pb.RenderSettings(seed=Int64Value(value=100))))
    changes = watch_until_idle(characters, pb, character_id)
    images = characters.ListTrainingImages(pb.ListTrainingImagesRequest(character_id=character_id)).training_images
    characters.DeleteTrainingImage(pb.DeleteTrainingImageRequest(character_id=character_id, training_image_id=images[-1].training_image_id))
    redone = characters.RegenerateTrainingImage(pb.RegenerateTrainingImageRequest(
        character_id=character_id, training_image_id=images[0].training_image_id, prompt=args.regenerate_prompt,
        render=pb.RenderSettings(seed=Int64Value(value=200))))

    try:
        characters.GenerateScene(pb.GenerateSceneRequest(character_id=character_id, prompt="too early"))
        refused = None
    except grpc.RpcError as error:
        refused = [error.code().name, error.details()]
    characters.Train(pb.TrainRequest(character_id=character_id, steps=args.steps, rank=args.rank, alpha=args.alpha,
                                     learning_rate=args.learning_rate))
    changes += watch_until_idle(characters, pb, character_id)

    def scene(seed, prompt, strength):
        return characters.GenerateScene(pb.GenerateSceneRequest(
            character_id=character_id, prompt=prompt, render=pb.RenderSettings(seed=Int64Value(value=seed)),
            lora_strength=strength, inline_images=inline))

    scenes, scene_files, without_files = [], [], []
    for seed, prompt in enumerate(args.scenes, start=1):
        scenes.append(scene(seed, prompt, 0))  # 0 = the LoRA at 1.0
        scene_files.append(save(args.out, f"scene-{seed}", scenes[-1].image))
        if args.without_lora:
            # 0 means the default strength, so "off" is a strength too small to change a pixel.
            without_files.append(save(args.out, f"scene-{seed}-without-lora", scene(seed, prompt, 1e-6).image))
    final = characters.Get(pb.GetCharacterRequest(character_id=character_id))
    print(json.dumps({
        "state": pb.CharacterState.Name(final.state),
        "candidates": len(candidates),
        "training_images": final.training_image_count,
        "regenerated_prompt": redone.prompt,
        "refused_scene": refused,
        "changes": changes,
        "scene_seeds": [s.seed for s in scenes],
        "scene_assets": [s.image.asset_id for s in scenes],
        "approved_file": approved,
        "scene_files": scene_files,
        "without_lora_files": without_files,
    }), flush=True)
    return 0 if final.state == pb.CHARACTER_STATE_READY else 1


if __name__ == "__main__":
    sys.exit(main())
