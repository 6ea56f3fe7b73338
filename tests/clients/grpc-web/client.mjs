// gRPC-Web check of CharacterGen's HTTP port with Connect's browser transport (fetch), the way a web page calls
// it: health, auth, a workflow run with streamed progress, cancel, error details, every service reachable.
// Message types come from a FileDescriptorSet the test writes from the server's own descriptors.
//
// Usage: node client.mjs --base-url http://127.0.0.1:8188 --descriptors set.pb --api-key KEY
// Prints "PASS name" or "FAIL name: why" per check, then "DONE failed=N"; exits 1 if any failed.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(args["descriptors"])));

function transport(apiKey) {
  return createGrpcWebTransport({
    baseUrl: args["base-url"],
    useBinaryFormat: true,
    interceptors: apiKey ? [(next) => (request) => { request.header.set("x-api-key", apiKey); return next(request); }] : [],
  });
}
const authed = transport(args["api-key"]);
const service = (name, via = authed) => createClient(registry.getService(name), via);
const workflows = service("charactergen.v1.Workflows");

function pipeline(value, steps, gate = "") {
  return JSON.stringify({
    "1": { class_type: "Const", inputs: { value } },
    "2": { class_type: "Steps", inputs: { value: ["1", 0], steps, gate } },
    "3": { class_type: "SaveText", inputs: { value: ["2", 0], filename_prefix: "web" } },
  });
}
const runRequest = (json) => ({ submit: { workflow: { workflow: { case: "workflowJson", value: json } } } });

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function expectError(code, call) {
  try {
    await call();
  } catch (error) {
    const connect = ConnectError.from(error);
    expect(connect.code === code, `expected ${Code[code]}, got ${Code[connect.code]}: ${connect.rawMessage}`);
    return connect;
  }
  throw new Error(`expected ${Code[code]}, the call succeeded`);
}

const checks = {
  async health_check() {
    const response = await service("grpc.health.v1.Health", transport(undefined)).check({ service: "ready" });
    expect(response.status === 1, `status ${response.status}`); // SERVING
  },
  async unauthenticated() {
    await expectError(Code.Unauthenticated, () => service("charactergen.v1.Workflows", transport(undefined)).listNodeTypes({}));
  },
  async workflow_run() {
    const events = [];
    for await (const event of workflows.run(runRequest(pipeline(5, 3)))) events.push(event.event.case);
    expect(events[0] === "queued", `first event ${events[0]}`);
    expect(events.filter((e) => e === "nodeProgress").length === 3, `events ${events}`);
    expect(events[events.length - 1] === "succeeded", `last event ${events[events.length - 1]}`);
  },
  async workflow_cancel() {
    const events = [];
    let jobId = "";
    for await (const event of workflows.run(runRequest(pipeline(1, 2, `web-cancel-${randomUUID()}`)))) {
      events.push(event.event.case);
      jobId = event.jobId;
      if (event.event.case === "nodeProgress") {
        const cancelled = await workflows.cancel({ jobId });
        expect(cancelled.cancellationRequested, "cancellation not requested");
      }
    }
    expect(events[events.length - 1] === "cancelled", `events ${events}`);
  },
  async invalid_argument_details() {
    const error = await expectError(Code.InvalidArgument, () => workflows.submit(runRequest(pipeline(5, 1000)).submit));
    const badRequest = error.findDetails(registry.getMessage("google.rpc.BadRequest"));
    expect(badRequest.length === 1, `${badRequest.length} BadRequest details`);
    expect(badRequest[0].fieldViolations.some((v) => v.field === 'nodes["2"].inputs.steps'), "no violation for steps");
  },
  async models_and_assets() {
    const models = await service("charactergen.v1.Models").list({});
    expect(models.folders.some((f) => f.kind === "checkpoints"), "no checkpoints folder");
    await expectError(Code.NotFound, () => service("charactergen.v1.Assets").stat({ assetId: "0".repeat(64) }));
  },
};

let failed = 0;
for (const [name, check] of Object.entries(checks)) {
  try {
    await check();
    console.log(`PASS ${name}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}: ${error?.stack ?? error}`);
  }
}
console.log(`DONE failed=${failed}`);
process.exit(failed === 0 ? 0 : 1);
