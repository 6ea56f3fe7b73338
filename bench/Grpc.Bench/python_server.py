#!/usr/bin/python3
"""The peer baseline: cgbench.v1.Bench on Python grpcio (Debian's python3-grpcio), same work as BenchService.cs.

Stubs are generated at start with grpc_tools.protoc into a temp folder. Prints READY once listening and
serves until stdin closes.

Usage: python_server.py --port 50152 --protos protos --bench-protos bench/Grpc.Bench/protos --api-protos DIR [--workers 8]
"""
import argparse
import atexit
import shutil
import subprocess
import os
import sys
import tempfile
from concurrent import futures

import grpc

JOB_ID = "00000000-0000-4000-8000-000000000000"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--protos", required=True)
    parser.add_argument("--bench-protos", required=True)
    parser.add_argument("--api-protos", required=True, help="folder holding google/api/annotations.proto and http.proto")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    stubs = tempfile.mkdtemp(prefix="cg-bench-stubs-")
    atexit.register(shutil.rmtree, stubs, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", args.protos, "-I", args.api_protos, "--python_out", stubs,
                    "google/api/http.proto", "google/api/annotations.proto", "charactergen/v1/workflows.proto"], check=True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", args.bench_protos, "-I", args.protos, "-I", args.api_protos,
                    "--python_out", stubs, "--grpc_python_out", stubs, "cgbench/v1/bench.proto"], check=True)
    sys.path.insert(0, stubs)
    import google  # the installed package; let it find the generated google.api too
    google.__path__.append(os.path.join(stubs, "google"))
    from cgbench.v1 import bench_pb2, bench_pb2_grpc
    from charactergen.v1 import workflows_pb2

    class Bench(bench_pb2_grpc.BenchServicer):
        def Ping(self, request, context):
            return bench_pb2.PingReply(text=request.text)

        def Events(self, request, context):
            count = request.count
            for i in range(1, count + 1):
                event = workflows_pb2.JobEvent(job_id=JOB_ID, sequence=i,
                                               node_progress=workflows_pb2.NodeProgress(node_id="3", value=i, max=count))
                event.time.GetCurrentTime()
                yield event

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers))
    bench_pb2_grpc.add_BenchServicer_to_server(Bench(), server)
    server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    print("READY", flush=True)
    sys.stdin.read()  # until the bench script closes our stdin
    server.stop(grace=1)


if __name__ == "__main__":
    main()
