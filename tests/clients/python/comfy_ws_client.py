#!/usr/bin/python3
"""ComfyUI's reference WebSocket client flow against CharacterGen's ComfyUI-compatible API.

Written the way ComfyUI's script_examples/websockets_api_example.py is (urllib + websocket-client, the
Debian packages python3 and python3-websocket, nothing else): open /ws with a client id, POST /prompt,
wait for the `executing` message whose node is null, read /history/{id}, fetch every image with /view.
Then the same prompt again, which must come entirely from the cache. Prints one PASS/FAIL line per
check and `DONE failed=N`; exits non-zero if a check failed.

Usage: comfy_ws_client.py --server 127.0.0.1:8188 [--prompt prompt.json] [--token SECRET]
"""
import argparse
import json
import struct
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

import websocket  # Debian python3-websocket (websocket-client)

# Const -> Steps (progress with previews) -> TestSaveImage: the server's test nodes. Pass --prompt for another catalogue.
DEFAULT_PROMPT = {
    "1": {"class_type": "Const", "inputs": {"value": 5}},
    "2": {"class_type": "Steps", "inputs": {"value": ["1", 0], "steps": 4}},
    "3": {"class_type": "TestSaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "PyClient"}},
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Server:
    def __init__(self, address, token=None):
        self.address = address
        self.token = token

    def request(self, path, data=None):
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        return urllib.request.Request("http://{}{}".format(self.address, path), data=data, headers=headers)

    def queue_prompt(self, prompt, client_id):
        body = json.dumps({"prompt": prompt, "client_id": client_id}).encode("utf-8")
        with urllib.request.urlopen(self.request("/prompt", body)) as response:
            return json.loads(response.read())

    def get_image(self, filename, subfolder, folder_type):
        query = urllib.parse.urlencode({"filename": filename, "subfolder": subfolder, "type": folder_type})
        with urllib.request.urlopen(self.request("/view?" + query)) as response:
            return response.read()

    def get_history(self, prompt_id):
        with urllib.request.urlopen(self.request("/history/" + prompt_id)) as response:
            return json.loads(response.read())

    def connect(self, client_id):
        ws = websocket.WebSocket()
        url = "ws://{}/ws?clientId={}".format(self.address, client_id)
        if self.token:
            url += "&token=" + urllib.parse.quote(self.token)
        ws.connect(url, timeout=30)
        return ws


def run_prompt(server, ws, prompt, client_id):
    """queue_prompt + the receive loop of websockets_api_example.get_images; returns (prompt_id, messages, previews)."""
    prompt_id = server.queue_prompt(prompt, client_id)["prompt_id"]
    messages, previews = [], []
    while True:
        out = ws.recv()
        if isinstance(out, str):
            message = json.loads(out)
            messages.append(message)
            if message["type"] == "executing":
                data = message["data"]
                if data["node"] is None and data["prompt_id"] == prompt_id:
                    break  # execution is done
        else:
            previews.append(out)  # binary preview frame: uint32 event type, uint32 format, image bytes
    return prompt_id, messages, previews


def get_images(server, prompt_id):
    history = server.get_history(prompt_id)[prompt_id]
    output_images = {}
    for node_id, node_output in history["outputs"].items():
        images_output = []
        for image in node_output.get("images", []):
            images_output.append(server.get_image(image["filename"], image["subfolder"], image["type"]))
        output_images[node_id] = images_output
    return history, output_images


class Checks:
    def __init__(self):
        self.failed = 0

    def run(self, name, check):
        try:
            detail = check()
            print("PASS {}{}".format(name, " ({})".format(detail) if detail else ""), flush=True)
        except Exception:  # report and go on, like a test runner
            self.failed += 1
            print("FAIL {}".format(name), flush=True)
            traceback.print_exc()


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="host:port of the HTTP API")
    parser.add_argument("--prompt", help="API-format prompt JSON file (default: a prompt for the test nodes)")
    parser.add_argument("--token", help="API key or bearer token when the server requires one")
    args = parser.parse_args()

    prompt = DEFAULT_PROMPT
    if args.prompt:
        with open(args.prompt, encoding="utf-8") as f:
            prompt = json.load(f)
    server = Server(args.server, args.token)
    client_id = str(uuid.uuid4())
    checks = Checks()
    state = {}

    ws = server.connect(client_id)

    def status_on_connect():
        hello = json.loads(ws.recv())
        expect(hello["type"] == "status", hello)
        expect(hello["data"]["sid"] == client_id, hello)
        return "queue_remaining={}".format(hello["data"]["status"]["exec_info"]["queue_remaining"])

    def first_run():
        prompt_id, messages, previews = run_prompt(server, ws, prompt, client_id)
        state.update(prompt_id=prompt_id, messages=messages, previews=previews)
        types = [m["type"] for m in messages]
        for expected in ("execution_start", "execution_cached", "executing", "execution_success"):
            expect(expected in types, "{} missing from {}".format(expected, types))
        expect(types.index("execution_start") < types.index("execution_success"), types)
        return "{} messages, {} previews".format(len(messages), len(previews))

    def previews_are_comfyui_frames():
        for frame in state["previews"]:
            event, image_format = struct.unpack(">II", frame[:8])
            expect(event == 1 and image_format in (1, 2), (event, image_format))
            expect(frame[8:16] == PNG_SIGNATURE or frame[8:10] == b"\xff\xd8", "not an image")
        return "{} frames".format(len(state["previews"]))

    def history_and_view():
        history, images = get_images(server, state["prompt_id"])
        expect(history["status"]["status_str"] == "success" and history["status"]["completed"], history["status"])
        files = [image for node_images in images.values() for image in node_images]
        expect(files, "no output images")
        for image in files:
            expect(image.startswith(PNG_SIGNATURE), "not a PNG")
        state["outputs"] = history["outputs"]
        return "{} image(s)".format(len(files))

    def cached_resubmission():
        prompt_id, messages, _ = run_prompt(server, ws, prompt, client_id)
        cached = [m for m in messages if m["type"] == "execution_cached"]
        expect(cached and sorted(cached[0]["data"]["nodes"]) == sorted(prompt.keys()), cached)
        expect(all(m["data"]["node"] is None for m in messages if m["type"] == "executing"), "a node ran again")
        history = server.get_history(prompt_id)[prompt_id]
        expect(history["outputs"] == state["outputs"], "different outputs")
        return "all {} nodes cached".format(len(prompt))

    def no_prompt_error():
        try:
            urllib.request.urlopen(server.request("/prompt", b'{"client_id": "x"}'))
        except urllib.error.HTTPError as error:
            expect(error.code == 400, error.code)
            body = json.loads(error.read())
            expect(body["error"]["type"] == "no_prompt" and body["node_errors"] == {}, body)
            return "400 no_prompt"
        raise AssertionError("accepted a body without a prompt")

    checks.run("status-on-connect", status_on_connect)
    checks.run("prompt-finishes", first_run)
    checks.run("preview-frames", previews_are_comfyui_frames)
    checks.run("history-and-view", history_and_view)
    checks.run("cached-resubmission", cached_resubmission)
    checks.run("no-prompt-error", no_prompt_error)
    ws.close()
    print("DONE failed={}".format(checks.failed), flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
