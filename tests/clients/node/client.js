#!/usr/bin/env node
// Real-client check of CharacterGen's gRPC server with @grpc/grpc-js and @grpc/proto-loader.
// Loads the repository's .proto files at run time, then exercises health, reflection, assets,
// errors, deadlines and gzip against a running server. With "--workflows true" (a server with the test
// node catalogue of tests/Server.Tests/WorkflowsApi/Support/TestNodes.cs) it also runs workflows end to
// end, cancels one, hits a deadline and lists models. Prints one PASS/FAIL line per check and exits
// non-zero if any check failed.
//
// Usage: node client.js --address 127.0.0.1:50051 --protos ../../../protos --test-protos ../../Server.Tests/Grpc/Protos --api-protos DIR [--workflows true]
'use strict';

const crypto = require('node:crypto');
const { workflowChecks } = require('./workflows');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const name of ['address', 'protos', 'test-protos', 'api-protos']) {
    if (!args[name]) throw new Error(`missing --${name}`);
  }
  return args;
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// Resolves with the error of a call that must fail.
function failure(start) {
  return new Promise((resolve, reject) => {
    start((error, response) => (error ? resolve(error) : reject(new Error(`call succeeded: ${JSON.stringify(response)}`))));
  });
}

function unary(client, method, request, options = {}) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 10000, ...options }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

function collect(stream) {
  return new Promise((resolve, reject) => {
    const messages = [];
    stream.on('data', (message) => messages.push(message));
    stream.on('error', reject);
    stream.on('end', () => resolve(messages));
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const definition = protoLoader.loadSync(
    ['grpc/health/v1/health.proto', 'grpc/reflection/v1/reflection.proto', 'charactergen/v1/assets.proto', 'cgtest/v1/echo.proto',
      'charactergen/v1/workflows.proto', 'charactergen/v1/models.proto'],
    { includeDirs: [args.protos, args['test-protos'], args['api-protos']], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
  );
  const proto = grpc.loadPackageDefinition(definition);
  const insecure = grpc.credentials.createInsecure();
  const health = new proto.grpc.health.v1.Health(args.address, insecure);
  const reflection = new proto.grpc.reflection.v1.ServerReflection(args.address, insecure);
  const assets = new proto.charactergen.v1.Assets(args.address, insecure);
  const echo = new proto.cgtest.v1.Echo(args.address, insecure);
  // gzip for every request message (2 = gzip in grpc-js's compression algorithm numbering).
  const gzipEcho = new proto.cgtest.v1.Echo(args.address, insecure, { 'grpc.default_compression_algorithm': 2 });
  const generic = new grpc.Client(args.address, insecure);

  const checks = [
    ['health_check', async () => {
      const response = await unary(health, 'Check', { service: '' });
      expect(response.status === 'SERVING', `status ${response.status}`);
    }],
    ['health_watch', () => new Promise((resolve, reject) => {
      const call = health.Watch({ service: 'ready' });
      call.on('data', (message) => {
        call.cancel();
        if (message.status === 'SERVING') resolve(); else reject(new Error(`status ${message.status}`));
      });
      call.on('error', (error) => { if (error.code !== grpc.status.CANCELLED) reject(error); });
    })],
    ['reflection_list', () => new Promise((resolve, reject) => {
      const call = reflection.ServerReflectionInfo();
      call.on('data', (response) => {
        call.end();
        const names = response.list_services_response.service.map((s) => s.name);
        for (const expected of ['grpc.health.v1.Health', 'charactergen.v1.Assets', 'cgtest.v1.Echo']) {
          if (!names.includes(expected)) { reject(new Error(`${expected} missing from ${names}`)); return; }
        }
        resolve(names.join(', '));
      });
      call.on('error', reject);
      call.write({ list_services: '' });
    })],
    ['reflection_describe', () => new Promise((resolve, reject) => {
      const call = reflection.ServerReflectionInfo();
      call.on('data', (response) => {
        call.end();
        const files = response.file_descriptor_response?.file_descriptor_proto ?? [];
        // A serialized FileDescriptorProto starts with field 1 (name): 0x0a, length, name.
        const first = files.length ? Buffer.from(files[0]) : Buffer.alloc(0);
        const name = first.length > 2 ? first.subarray(2, 2 + first[1]).toString() : '';
        if (name === 'charactergen/v1/assets.proto') resolve(`${files.length} files`);
        else reject(new Error(`first file is '${name}'`));
      });
      call.on('error', reject);
      call.write({ file_containing_symbol: 'charactergen.v1.Assets' });
    })],
    ['upload_download', async () => {
      const data = crypto.randomBytes(300000);
      const uploaded = await new Promise((resolve, reject) => {
        const call = assets.Upload({ deadline: Date.now() + 30000 }, (error, response) => (error ? reject(error) : resolve(response)));
        call.write({ file_name: 'node.bin', content_type: 'application/octet-stream', chunk: data.subarray(0, 100000) });
        for (let start = 100000; start < data.length; start += 100000) call.write({ chunk: data.subarray(start, start + 100000) });
        call.end();
      });
      expect(Number(uploaded.size_bytes) === data.length, `size ${uploaded.size_bytes}`);
      const messages = await collect(assets.Download({ asset_id: uploaded.asset_id }, { deadline: Date.now() + 30000 }));
      const downloaded = Buffer.concat(messages.map((m) => m.chunk));
      expect(downloaded.equals(data), 'downloaded bytes differ');
      const stat = await unary(assets, 'Stat', { asset_id: uploaded.asset_id });
      expect(stat.info.file_name === 'node.bin', stat.info.file_name);
      return uploaded.asset_id;
    }],
    ['invalid_argument_details', async () => {
      const error = await failure((done) => assets.Stat({ asset_id: '../../etc/passwd' }, done));
      expect(error.code === grpc.status.INVALID_ARGUMENT, `code ${error.code}`);
      const details = error.metadata.get('grpc-status-details-bin');
      expect(details.length === 1 && Buffer.isBuffer(details[0]) && details[0].length > 0, 'no grpc-status-details-bin');
      expect(details[0].includes(Buffer.from('asset_id')), 'details do not name asset_id');
    }],
    ['unknown_method', async () => {
      const error = await failure((done) => generic.makeUnaryRequest('/cgtest.v1.Echo/NoSuchMethod', (x) => x, (x) => x, Buffer.alloc(0), done));
      expect(error.code === grpc.status.UNIMPLEMENTED, `code ${error.code}`);
      return error.details;
    }],
    ['deadline_exceeded', async () => {
      const error = await failure((done) => echo.WaitForCancellation({ text: 'node-deadline' }, { deadline: Date.now() + 200 }, done));
      expect(error.code === grpc.status.DEADLINE_EXCEEDED, `code ${error.code}`);
    }],
    ['gzip', async () => {
      const payload = Buffer.alloc(50000);
      const response = await unary(gzipEcho, 'Unary', { text: 'zip', payload });
      expect(response.request_encoding === 'gzip', `server saw encoding '${response.request_encoding}'`);
      expect(Buffer.from(response.payload).equals(payload), 'payload differs');
      const stream = await collect(gzipEcho.ServerStream({ text: 'zip', repeat: 3 }, { deadline: Date.now() + 10000 }));
      expect(stream.map((m) => m.index).join() === '0,1,2', stream.map((m) => m.index).join());
    }],
    ['streaming', async () => {
      const call = echo.Duplex({ deadline: Date.now() + 10000 });
      const replies = collect(call);
      for (const text of ['a', 'b', 'c']) call.write({ text });
      call.end();
      const texts = (await replies).map((m) => m.text).join();
      expect(texts === 'a,b,c', texts);
      const joined = await new Promise((resolve, reject) => {
        const upload = echo.ClientStream({ deadline: Date.now() + 10000 }, (error, response) => (error ? reject(error) : resolve(response)));
        upload.write({ text: 'x' });
        upload.write({ text: 'y' });
        upload.end();
      });
      expect(joined.text === 'x,y', joined.text);
    }],
  ];

  const workflowClients = [];
  if (args.workflows === 'true') {
    const extra = workflowChecks(proto, args.address, insecure, reflection, args.protos);
    checks.push(...extra.checks);
    workflowClients.push(...extra.clients);
  }

  let failed = 0;
  for (const [name, check] of checks) {
    try {
      const detail = await check();
      console.log(`PASS ${name}${detail ? `: ${detail}` : ''}`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL ${name}: ${error && error.stack ? error.stack : error}`);
    }
  }
  for (const client of [health, reflection, assets, echo, gzipEcho, generic, ...workflowClients]) client.close();
  console.log(`DONE failed=${failed}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.log(`FAIL setup: ${error && error.stack ? error.stack : error}`);
  process.exitCode = 2;
});
