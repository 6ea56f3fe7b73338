#!/usr/bin/python3
"""Real-client check of CharacterGen's gRPC server with Python grpcio.

Generates stubs from the repository's .proto files into a temp folder, then exercises health,
reflection, assets, errors, deadlines and gzip against a running server. Prints one PASS/FAIL line
per check and exits non-zero if any check failed.

Usage: client.py --address 127.0.0.1:50051 --protos protos --test-protos tests/Server.Tests/Grpc/Protos
"""
import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

import grpc

PROTOS = [
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
    "charactergen/v1/assets.proto",
]
TEST_PROTOS = ["cgtest/v1/echo.proto"]


def generate_stubs(protos_dir, test_protos_dir, out_dir):
    for root, files in ((protos_dir, PROTOS), (test_protos_dir, TEST_PROTOS)):
        command = [sys.executable, "-m", "grpc_tools.protoc", "-I", root, "-I", protos_dir,
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
    args = parser.parse_args()

    stubs = tempfile.mkdtemp(prefix="cg-py-stubs-")
    atexit.register(shutil.rmtree, stubs, ignore_errors=True)
    generate_stubs(args.protos, args.test_protos, stubs)
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
    channel.close()
    print(f"DONE failed={checks.failed}", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
