#!/usr/bin/python3
"""Real-client check of CharacterGen's gRPC server with Python grpcio.

Generates stubs from the repository's .proto files into a temp folder, then exercises health,
reflection, assets, errors, deadlines and gzip against a running server. With --workflows (a server
with the test node catalogue of tests/Server.Tests/WorkflowsApi/Support/TestNodes.cs) it also runs
workflows end to end, cancels one, hits a deadline and lists models. Prints one PASS/FAIL line per
check and exits non-zero if any check failed.

Usage: client.py --address 127.0.0.1:50051 --protos protos --test-protos tests/Server.Tests/Grpc/Protos --api-protos DIR [--workflows]
"""
import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import uuid

import grpc

PROTOS = [
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
    "google/api/http.proto",
    "google/api/annotations.proto",
    "charactergen/v1/assets.proto",
    "charactergen/v1/workflows.proto",
    "charactergen/v1/models.proto",
]
TEST_PROTOS = ["cgtest/v1/echo.proto"]


def generate_stubs(protos_dir, test_protos_dir, api_protos_dir, out_dir):
    # api_protos_dir: google/api/{annotations,http}.proto, which the charactergen protos import for JSON transcoding.
    for root, files in ((protos_dir, PROTOS), (test_protos_dir, TEST_PROTOS)):
        command = [sys.executable, "-m", "grpc_tools.protoc", "-I", root, "-I", protos_dir, "-I", api_protos_dir,
                   "--python_out", out_dir, "--grpc_python_out", out_dir, *files]
        subprocess.run(command, check=True)
    sys.path.insert(0, out_dir)
    # Our generated packages share top-level names with installed ones (grpc, google); let the
    # installed packages find the generated sub-packages too.
    import google
    for package, name in ((grpc, "grpc"), (google, "google")):
        extra = os.path.join(out_dir, name)
        if extra not in list(package.__path__):
            package.__path__.append(extra)


class Checks:
    def __init__(self):
        self.failed = 0

    def run(self, name, check):
        try:
            detail = check()
            print(f"PASS {name}" + (f": {detail}" if detail else ""), flush=True)
        except Exception as error:  # report every failure, keep going
            self.failed += 1
            print(f"FAIL {name}: {error!r}", flush=True)
            traceback.print_exc()


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--protos", required=True)
    parser.add_argument("--test-protos", required=True)
    parser.add_argument("--api-protos", required=True, help="folder holding google/api/annotations.proto and http.proto")
    parser.add_argument("--workflows", action="store_true", help="also run the Workflows/Models checks")
    args = parser.parse_args()

    stubs = tempfile.mkdtemp(prefix="cg-py-stubs-")
    atexit.register(shutil.rmtree, stubs, ignore_errors=True)
    generate_stubs(args.protos, args.test_protos, args.api_protos, stubs)
    from grpc.health.v1 import health_pb2, health_pb2_grpc
    from grpc.reflection.v1 import reflection_pb2, reflection_pb2_grpc
    from google.rpc import status_pb2, error_details_pb2
    from google.protobuf import descriptor_pb2
    from charactergen.v1 import assets_pb2, assets_pb2_grpc
    from cgtest.v1 import echo_pb2, echo_pb2_grpc

    channel = grpc.insecure_channel(args.address)
    health = health_pb2_grpc.HealthStub(channel)
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    assets = assets_pb2_grpc.AssetsStub(channel)
    echo = echo_pb2_grpc.EchoStub(channel)
    checks = Checks()

    def health_check():
        response = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        expect(response.status == health_pb2.HealthCheckResponse.SERVING, f"status {response.status}")

    def health_watch():
        stream = health.Watch(health_pb2.HealthCheckRequest(service="ready"), timeout=10)
        first = next(stream)
        stream.cancel()
        expect(first.status == health_pb2.HealthCheckResponse.SERVING, f"status {first.status}")

    def reflection_list():
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        response = next(reflection.ServerReflectionInfo(iter([request]), timeout=10))
        names = {service.name for service in response.list_services_response.service}
        for expected in ("grpc.health.v1.Health", "charactergen.v1.Assets", "cgtest.v1.Echo"):
            expect(expected in names, f"{expected} missing from {sorted(names)}")
        return ", ".join(sorted(names))

    def reflection_describe():
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="charactergen.v1.Assets")
        response = next(reflection.ServerReflectionInfo(iter([request]), timeout=10))
        files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
                 for raw in response.file_descriptor_response.file_descriptor_proto]
        expect(files[0].name == "charactergen/v1/assets.proto", files[0].name)
        methods = [method.name for method in files[0].service[0].method]
        expect(methods == ["Upload", "Download", "Stat"], methods)

    def upload_download():
        data = os.urandom(300_000)

        def chunks():
            yield assets_pb2.UploadAssetRequest(file_name="python.bin", content_type="application/octet-stream",
                                                chunk=data[:100_000])
            for start in range(100_000, len(data), 100_000):
                yield assets_pb2.UploadAssetRequest(chunk=data[start:start + 100_000])

        uploaded = assets.Upload(chunks(), timeout=30)
        expect(uploaded.size_bytes == len(data), f"size {uploaded.size_bytes}")
        downloaded = b"".join(m.chunk for m in assets.Download(assets_pb2.DownloadAssetRequest(asset_id=uploaded.asset_id), timeout=30))
        expect(downloaded == data, "downloaded bytes differ")
        stat = assets.Stat(assets_pb2.StatAssetRequest(asset_id=uploaded.asset_id), timeout=10)
        expect(stat.info.file_name == "python.bin", stat.info.file_name)
        return uploaded.asset_id

    def invalid_argument_details():
        try:
            assets.Stat(assets_pb2.StatAssetRequest(asset_id="../../etc/passwd"), timeout=10)
        except grpc.RpcError as error:
            expect(error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.code())
            raw = dict(error.trailing_metadata())["grpc-status-details-bin"]
            status = status_pb2.Status.FromString(raw)
            bad_request = error_details_pb2.BadRequest()
            expect(status.details[0].Unpack(bad_request), "details are not a BadRequest")
            expect(bad_request.field_violations[0].field == "asset_id", bad_request)
            return
        raise AssertionError("Stat with a bad id succeeded")

    def unknown_method():
        call = channel.unary_unary("/cgtest.v1.Echo/NoSuchMethod")
        try:
            call(b"", timeout=10)
        except grpc.RpcError as error:
            expect(error.code() == grpc.StatusCode.UNIMPLEMENTED, error.code())
            return error.details()
        raise AssertionError("unknown method succeeded")

    def deadline_exceeded():
        try:
            echo.WaitForCancellation(echo_pb2.EchoRequest(text="python-deadline"), timeout=0.2)
        except grpc.RpcError as error:
            expect(error.code() == grpc.StatusCode.DEADLINE_EXCEEDED, error.code())
            return
        raise AssertionError("call outlived its deadline")

    def gzip():
        payload = bytes(50_000)
        response = echo.Unary(echo_pb2.EchoRequest(text="zip", payload=payload), timeout=10,
                              compression=grpc.Compression.Gzip)
        expect(response.request_encoding == "gzip", f"server saw encoding {response.request_encoding!r}")
        expect(response.payload == payload, "payload differs")
        stream = list(echo.ServerStream(echo_pb2.EchoRequest(text="zip", repeat=3), timeout=10,
                                        compression=grpc.Compression.Gzip))
        expect([m.index for m in stream] == [0, 1, 2], [m.index for m in stream])

    def streaming():
        replies = list(echo.Duplex(iter([echo_pb2.EchoRequest(text=t) for t in ("a", "b", "c")]), timeout=10))
        expect([r.text for r in replies] == ["a", "b", "c"], replies)
        joined = echo.ClientStream(iter([echo_pb2.EchoRequest(text=t) for t in ("x", "y")]), timeout=10)
        expect(joined.text == "x,y", joined.text)

    checks.run("health_check", health_check)
    checks.run("health_watch", health_watch)
    checks.run("reflection_list", reflection_list)
    checks.run("reflection_describe", reflection_describe)
    checks.run("upload_download", upload_download)
    checks.run("invalid_argument_details", invalid_argument_details)
    checks.run("unknown_method", unknown_method)
    checks.run("deadline_exceeded", deadline_exceeded)
    checks.run("gzip", gzip)
    checks.run("streaming", streaming)
    if args.workflows:
        from charactergen.v1 import workflows_pb2, workflows_pb2_grpc, models_pb2, models_pb2_grpc
        workflow_checks(channel, checks, reflection, reflection_pb2, status_pb2, error_details_pb2,
                        workflows_pb2, workflows_pb2_grpc, models_pb2, models_pb2_grpc)
    channel.close()
    print(f"DONE failed={checks.failed}", flush=True)
    return 1 if checks.failed else 0


def pipeline(value, gate=""):
    """Const(value) -> Steps(2 steps, optional gate) -> SaveText: the test catalogue's nodes."""
    return json.dumps({
        "1": {"class_type": "Const", "inputs": {"value": value}},
        "2": {"class_type": "Steps", "inputs": {"value": ["1", 0], "steps": 2, "gate": gate}},
        "3": {"class_type": "SaveText", "inputs": {"value": ["2", 0], "filename_prefix": "python"}},
    })


def workflow_checks(channel, checks, reflection, reflection_pb2, status_pb2, error_details_pb2,
                    workflows_pb2, workflows_pb2_grpc, models_pb2, models_pb2_grpc):
    workflows = workflows_pb2_grpc.WorkflowsStub(channel)
    models = models_pb2_grpc.ModelsStub(channel)

    def run_request(workflow_json, overrides=(), inline=False):
        spec = workflows_pb2.WorkflowSpec(workflow_json=workflow_json, overrides=list(overrides))
        return workflows_pb2.RunRequest(submit=workflows_pb2.SubmitRequest(workflow=spec), inline_outputs=inline)

    def reflection_workflows():
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        response = next(reflection.ServerReflectionInfo(iter([request]), timeout=10))
        names = {service.name for service in response.list_services_response.service}
        for expected in ("charactergen.v1.Workflows", "charactergen.v1.Models"):
            expect(expected in names, f"{expected} missing from {sorted(names)}")

    def workflow_run():
        value = 4242
        override = workflows_pb2.InputOverride(input="1.value", int_value=value)
        events = list(workflows.Run(run_request(pipeline(0), [override], inline=True), timeout=30))
        kinds = [event.WhichOneof("event") for event in events]
        expect(kinds == ["queued", "started", "nodes_cached",
                         "node_started", "node_finished",
                         "node_started", "node_progress", "node_progress", "node_finished",
                         "node_started", "node_finished", "succeeded"], kinds)
        expect([event.sequence for event in events] == list(range(1, 13)), [event.sequence for event in events])
        job_id = events[0].job_id
        expect(all(event.job_id == job_id for event in events), "events of several jobs")
        expect([(e.node_started.node_id, e.node_started.class_type) for e in events if e.HasField("node_started")]
               == [("1", "Const"), ("2", "Steps"), ("3", "SaveText")], "node order")
        progress = [e.node_progress for e in events if e.HasField("node_progress")]
        expect([(p.value, p.max) for p in progress] == [(1, 2), (2, 2)], progress)
        expect(progress[0].preview == b"\x89PNG" and progress[1].preview == b"", "previews")
        saved = events[10].node_finished
        expect(saved.node_id == "3" and list(saved.ui["value"]) == [value], saved)
        succeeded = events[-1].succeeded
        expect(list(succeeded.outputs["3"]["value"]) == [value], succeeded.outputs)
        files = list(succeeded.files)
        expect(len(files) == 1 and files[0].filename == saved.ui["images"][0]["filename"], files)
        expect(files[0].content == f"value={value}".encode(), files[0].content)
        return job_id

    def workflow_invalid():
        broken = json.loads(pipeline(1))
        broken["2"]["inputs"]["steps"] = 0
        try:
            workflows.Submit(workflows_pb2.SubmitRequest(workflow=workflows_pb2.WorkflowSpec(workflow_json=json.dumps(broken))), timeout=10)
        except grpc.RpcError as error:
            expect(error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.code())
            status = status_pb2.Status.FromString(dict(error.trailing_metadata())["grpc-status-details-bin"])
            bad_request = error_details_pb2.BadRequest()
            expect(any(d.Unpack(bad_request) for d in status.details), "no BadRequest")
            fields = {v.field: v.description for v in bad_request.field_violations}
            expect(fields.get('nodes["2"].inputs.steps', "").startswith("value_smaller_than_min"), fields)
            return
        raise AssertionError("invalid workflow accepted")

    def workflow_cancel():
        stream = workflows.Run(run_request(pipeline(1, gate=f"python-cancel-{uuid.uuid4().hex}")), timeout=30)
        kinds = []
        for event in stream:
            kinds.append(event.WhichOneof("event"))
            if kinds[-1] == "node_progress":
                response = workflows.Cancel(workflows_pb2.CancelJobRequest(job_id=event.job_id), timeout=10)
                expect(response.cancellation_requested, response)
            last = event
        expect(kinds[-1] == "cancelled" and last.cancelled.node_id == "2", kinds)
        job = workflows.GetJob(workflows_pb2.GetJobRequest(job_id=last.job_id), timeout=10).job
        expect(job.state == workflows_pb2.JOB_STATE_CANCELLED, job.state)

    def workflow_deadline():
        # The deadline must fire after the first event: start at 1 s and lengthen it when a busy machine was slower.
        for timeout in (1.0, 4.0, 16.0):
            events = []
            try:
                for event in workflows.Run(run_request(pipeline(2, gate=f"python-deadline-{uuid.uuid4().hex}")), timeout=timeout):
                    events.append(event)
            except grpc.RpcError as error:
                expect(error.code() == grpc.StatusCode.DEADLINE_EXCEEDED, error.code())
            else:
                raise AssertionError("Run outlived its deadline")
            if events:
                break
        expect(events, "no event before a 16 s deadline")
        final = list(workflows.Watch(workflows_pb2.WatchRequest(job_id=events[0].job_id), timeout=20))
        expect(final[-1].WhichOneof("event") == "cancelled", final[-1])

    def models_list():
        response = models.List(models_pb2.ListModelsRequest(kind="checkpoints"), timeout=10)
        expect([folder.kind for folder in response.folders] == ["checkpoints"], response)

    checks.run("reflection_workflows", reflection_workflows)
    checks.run("workflow_run", workflow_run)
    checks.run("workflow_invalid", workflow_invalid)
    checks.run("workflow_cancel", workflow_cancel)
    checks.run("workflow_deadline", workflow_deadline)
    checks.run("models_list", models_list)


if __name__ == "__main__":
    sys.exit(main())
