#!/usr/bin/env python3
"""Runs a training workflow through charactergen.v1.Workflows/Run with Debian's grpcio and prints, one JSON line
each, every training progress tick (the typed TrainingProgress message) and then the job's final event kind.
Usage: training_watch.py --address HOST:PORT --protos DIR --test-protos DIR --api-protos DIR --workflow FILE"""
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


def main():
    parser = argparse.ArgumentParser()
    for name in ("--address", "--protos", "--test-protos", "--api-protos", "--workflow"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()

    stubs = tempfile.mkdtemp(prefix="cg-py-train-")
    atexit.register(shutil.rmtree, stubs, ignore_errors=True)
    generate_stubs(args.protos, args.test_protos, args.api_protos, stubs)
    from charactergen.v1 import workflows_pb2, workflows_pb2_grpc

    with open(args.workflow, encoding="utf-8") as f:
        spec = workflows_pb2.WorkflowSpec(workflow_json=f.read())
    request = workflows_pb2.RunRequest(submit=workflows_pb2.SubmitRequest(workflow=spec))
    workflows = workflows_pb2_grpc.WorkflowsStub(grpc.insecure_channel(args.address))
    last = None
    for event in workflows.Run(request, timeout=240):
        last = event.WhichOneof("event")
        if last == "node_progress" and event.node_progress.HasField("training"):
            t = event.node_progress.training
            print(json.dumps({"node": event.node_progress.node_id, "value": event.node_progress.value,
                              "step": t.step, "total_steps": t.total_steps, "epoch": t.epoch, "loss": t.loss,
                              "learning_rate": t.learning_rate, "eta_seconds": t.eta_seconds,
                              "details_loss": event.node_progress.details["loss"]}), flush=True)
        elif last == "failed":
            print(json.dumps({"failed": event.failed.message}), flush=True)
    print(json.dumps({"final": last}), flush=True)
    return 0 if last == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
