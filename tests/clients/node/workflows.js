// Workflows/Models checks of the Node real client (client.js --workflows true). They need a server with
// the test node catalogue (tests/Server.Tests/WorkflowsApi/Support/TestNodes.cs): Const, Steps (progress,
// optional gate that waits until the job is cancelled), SaveText (writes a file, ui.images).
'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// google.protobuf.Value / Struct as decoded by proto-loader (oneofs: true) → plain JavaScript.
function fromValue(value) {
  switch (value.kind) {
    case 'nullValue': return null;
    case 'numberValue': return value.numberValue;
    case 'stringValue': return value.stringValue;
    case 'boolValue': return value.boolValue;
    case 'structValue': return fromStruct(value.structValue);
    case 'listValue': return (value.listValue.values || []).map(fromValue);
    default: return undefined;
  }
}

function fromStruct(struct) {
  const result = {};
  for (const [key, value] of Object.entries((struct && struct.fields) || {})) result[key] = fromValue(value);
  return result;
}

function pipeline(value, gate = '') {
  return JSON.stringify({
    1: { class_type: 'Const', inputs: { value } },
    2: { class_type: 'Steps', inputs: { value: ['1', 0], steps: 2, gate } },
    3: { class_type: 'SaveText', inputs: { value: ['2', 0], filename_prefix: 'node' } },
  });
}

function runRequest(workflowJson, overrides = [], inline = false) {
  return { submit: { workflow: { workflow_json: workflowJson, overrides } }, inline_outputs: inline };
}

// Streams a call to its end; resolves { events, error } (error: the status error, or null on OK).
function drain(stream, onEvent = () => {}) {
  return new Promise((resolve) => {
    const events = [];
    stream.on('data', (event) => { events.push(event); onEvent(event); });
    stream.on('error', (error) => resolve({ events, error }));
    stream.on('end', () => resolve({ events, error: null }));
  });
}

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 10000 }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

// google.rpc.Status and BadRequest codecs, to decode grpc-status-details-bin.
function richErrorTypes(protosDir) {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => path.join(protosDir, target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  return { Status: root.lookupType('google.rpc.Status'), BadRequest: root.lookupType('google.rpc.BadRequest') };
}

function workflowChecks(proto, address, insecure, reflection, protosDir) {
  const v1 = proto.charactergen.v1;
  const workflows = new v1.Workflows(address, insecure);
  const models = new v1.Models(address, insecure);
  const { Status, BadRequest } = richErrorTypes(protosDir);

  const checks = [
    ['reflection_workflows', () => new Promise((resolve, reject) => {
      const call = reflection.ServerReflectionInfo();
      call.on('data', (response) => {
        call.end();
        const names = response.list_services_response.service.map((s) => s.name);
        for (const expected of ['charactergen.v1.Workflows', 'charactergen.v1.Models']) {
          if (!names.includes(expected)) { reject(new Error(`${expected} missing from ${names}`)); return; }
        }
        resolve();
      });
      call.on('error', reject);
      call.write({ list_services: '' });
    })],
    ['workflow_run', async () => {
      const value = 2424;
      const overrides = [{ input: '1.value', int_value: String(value) }];
      const { events, error } = await drain(workflows.Run(runRequest(pipeline(0), overrides, true), { deadline: Date.now() + 30000 }));
      expect(error === null, `status ${error && error.code}: ${error && error.details}`);
      const kinds = events.map((e) => e.event).join();
      expect(kinds === 'queued,started,nodes_cached,node_started,node_finished,node_started,node_progress,node_progress,'
        + 'node_finished,node_started,node_finished,succeeded', kinds);
      expect(events.map((e) => e.sequence).join() === '1,2,3,4,5,6,7,8,9,10,11,12', events.map((e) => e.sequence).join());
      const jobId = events[0].job_id;
      expect(events.every((e) => e.job_id === jobId), 'events of several jobs');
      const started = events.filter((e) => e.event === 'node_started').map((e) => `${e.node_started.node_id}:${e.node_started.class_type}`);
      expect(started.join() === '1:Const,2:Steps,3:SaveText', started.join());
      const progress = events.filter((e) => e.event === 'node_progress').map((e) => e.node_progress);
      expect(progress.map((p) => `${p.value}/${p.max}`).join() === '1/2,2/2', 'progress values');
      expect(Buffer.from(progress[0].preview).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47])) && progress[1].preview.length === 0, 'previews');
      const ui = fromStruct(events[10].node_finished.ui);
      expect(events[10].node_finished.node_id === '3' && ui.value[0] === value, JSON.stringify(ui));
      const succeeded = events[11].succeeded;
      expect(fromStruct(succeeded.outputs['3']).value[0] === value, 'outputs');
      expect(succeeded.files.length === 1 && succeeded.files[0].filename === ui.images[0].filename, 'files');
      expect(Buffer.from(succeeded.files[0].content).toString() === `value=${value}`, 'inlined file content');
      return jobId;
    }],
    ['workflow_invalid', async () => {
      const broken = JSON.parse(pipeline(1));
      broken['2'].inputs.steps = 0;
      const error = await unary(workflows, 'Submit', { workflow: { workflow_json: JSON.stringify(broken) } }).then(
        () => { throw new Error('invalid workflow accepted'); }, (e) => e);
      expect(error.code === grpc.status.INVALID_ARGUMENT, `code ${error.code}`);
      const status = Status.decode(error.metadata.get('grpc-status-details-bin')[0]);
      const badRequest = status.details.filter((d) => d.type_url.endsWith('google.rpc.BadRequest')).map((d) => BadRequest.decode(d.value))[0];
      const steps = badRequest.field_violations.find((v) => v.field === 'nodes["2"].inputs.steps');
      expect(steps && steps.description.startsWith('value_smaller_than_min'), JSON.stringify(badRequest.field_violations));
    }],
    ['workflow_cancel', async () => {
      let cancel = null;
      const stream = workflows.Run(runRequest(pipeline(1, `node-cancel-${crypto.randomUUID()}`)), { deadline: Date.now() + 30000 });
      const { events, error } = await drain(stream, (event) => {
        if (event.event === 'node_progress' && cancel === null) cancel = unary(workflows, 'Cancel', { job_id: event.job_id });
      });
      expect(error === null, `status ${error && error.code}`);
      expect((await cancel).cancellation_requested === true, 'cancellation not requested');
      const last = events[events.length - 1];
      expect(last.event === 'cancelled' && last.cancelled.node_id === '2', JSON.stringify(last));
      const job = (await unary(workflows, 'GetJob', { job_id: last.job_id })).job;
      expect(job.state === 'JOB_STATE_CANCELLED', job.state);
    }],
    ['workflow_deadline', async () => {
      const stream = workflows.Run(runRequest(pipeline(2, `node-deadline-${crypto.randomUUID()}`)), { deadline: Date.now() + 1000 });
      const { events, error } = await drain(stream);
      expect(error && error.code === grpc.status.DEADLINE_EXCEEDED, `status ${error && error.code}`);
      expect(events.length > 0, 'no event before the deadline');
      const watched = await drain(workflows.Watch({ job_id: events[0].job_id }, { deadline: Date.now() + 20000 }));
      expect(watched.error === null && watched.events[watched.events.length - 1].event === 'cancelled', 'job not cancelled');
    }],
    ['models_list', async () => {
      const response = await unary(models, 'List', { kind: 'checkpoints' });
      expect(response.folders.map((f) => f.kind).join() === 'checkpoints', JSON.stringify(response));
    }],
  ];
  return { checks, clients: [workflows, models] };
}

module.exports = { workflowChecks };
