#!/usr/bin/env node
// An independent client of xdplb.v1.Controller: grpc-js with the .proto files loaded at run
// time, nothing generated, nothing shared with the agent's code. It applies one service
// over the unix socket, reads it back (GetService, ListServices) and prints the three
// answers as one JSON document on stdout. A refused call prints
// {"error": {"code": "FAILED_PRECONDITION", "number": 9, "details": "..."}} on stderr and
// exits 1; a usage error exits 2.
//
//   node apply.js --socket PATH --controller NAME --address VIP --port PORT
//                 [--name NAME] [--protocol P] [--scheduler S] [--expected-generation N]
//                 [--backend ADDR:PORT[:WEIGHT]]...
'use strict';

const path = require('node:path');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.join(__dirname, '..', '..', 'proto');

function usage(message) {
  process.stderr.write(`apply.js: ${message}\n`);
  process.exit(2);
}

function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        socket: { type: 'string' },
        controller: { type: 'string' },
        name: { type: 'string', default: '' },
        address: { type: 'string' },
        port: { type: 'string' },
        protocol: { type: 'string', default: '' },
        scheduler: { type: 'string', default: '' },
        'expected-generation': { type: 'string' },
        backend: { type: 'string', multiple: true, default: [] },
      },
    }));
  } catch (error) {
    usage(error.message);
  }
  for (const required of ['socket', 'controller', 'address', 'port'])
    if (values[required] === undefined) usage(`--${required} is required`);
  return values;
}

// ADDR:PORT[:WEIGHT]; the address is passed on as written, so the agent's validation is what a test sees.
function backend(text) {
  const [address, port, weight] = text.split(':');
  const spec = { address, port: Number(port ?? 0) };
  if (weight !== undefined) spec.weight = Number(weight);
  return spec;
}

function loadController() {
  const definition = protoLoader.loadSync('xdplb/v1/controller.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: false,
    longs: String, // uint64 generations as decimal strings: JSON numbers would lose precision
    enums: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(definition).xdplb.v1.Controller;
}

function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 30_000 }, (error, response) =>
      error ? reject(error) : resolve(response));
  });
}

function statusName(code) {
  return Object.keys(grpc.status).find((name) => grpc.status[name] === code) ?? String(code);
}

async function main() {
  const options = readOptions();
  const Controller = loadController();
  const client = new Controller(`unix:${options.socket}`, grpc.credentials.createInsecure());
  const service = {
    name: options.name,
    address: options.address,
    port: Number(options.port),
    protocol: options.protocol,
    scheduler: options.scheduler,
    backends: options.backend.map(backend),
  };
  const request = { controller: options.controller, service };
  if (options['expected-generation'] !== undefined) request.expectedGeneration = options['expected-generation'];
  const ref = { address: service.address, port: service.port, protocol: service.protocol };
  try {
    const applied = await call(client, 'ApplyService', request);
    const got = await call(client, 'GetService', { service: ref });
    const listed = await call(client, 'ListServices', { owner: options.controller });
    process.stdout.write(JSON.stringify({ applied, got, listed: listed.services }, null, 2) + '\n');
  } catch (error) {
    if (error.code === undefined) throw error;
    const refusal = { code: statusName(error.code), number: error.code, details: error.details };
    process.stderr.write(JSON.stringify({ error: refusal }) + '\n');
    process.exitCode = 1;
  } finally {
    client.close();
  }
}

main().catch((error) => {
  process.stderr.write(`apply.js: ${error.stack ?? error}\n`);
  process.exitCode = 1;
});
