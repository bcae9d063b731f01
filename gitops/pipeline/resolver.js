// The cdk8s resolver: `node resolver.js <node_modules folder>`, started by resolver_pool.py.
//
// It answers requests "resolve chart <id> with these bodies" with cdk8s's `chart.toJson()`: a
// cdk8s App, a Chart per request, one ApiObject per body, exactly the construct calls
// charts/base.py `resolve_chart` makes through cdk8s's Python bindings (the in-process path), on
// the same cdk8s and constructs code: the JavaScript those Python packages embed (cdk8s_js.py).
//
// Why not through the bindings: jsii marshals every call between Python and Node, and a body is
// 3-4 calls (ApiObject, JsonPatch.add per top-level field, addJsonPatch) plus its share of
// toJson, each walking every value of the body on both sides. Measured on Meetinity's 648 objects
// in one process: 0.7-1.0 s through jsii (Node alone 0.65-0.82 CPU-s, jsii's kernel calling
// util.inspect for every value it types, lib/program.js computeSerializationType), 0.07-0.10 s
// here; and no jsii Python runtime to import per resolver. One request per chart, one answer.
//
// Wire format (stdin -> stdout): frames of a 4-byte big-endian length and UTF-8 JSON. Request
// [chartId, bodies]; reply [chartId, objects, null] or [chartId, null, errorText], in request
// order. Anything a library prints goes to stderr, so it can never corrupt a frame.
'use strict';
const fs = require('fs');
const path = require('path');

const IN = 0;
const OUT = 1;
Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => process.stderr });

const libraries = process.argv[2];
const cdk8s = require(path.join(libraries, 'cdk8s'));

// jsii hands `metadata` to cdk8s as the struct ApiObjectMetadata: its Python binding refuses a
// field the struct does not declare, and the kernel checks each declared field's type. The same
// rule, read from the same assembly (cdk8s's .jsii type system), keeps both paths equivalent.
const assembly = JSON.parse(fs.readFileSync(path.join(libraries, 'cdk8s', '.jsii'), 'utf8'));

// A value as jsii's kernel hands it to cdk8s for a declared type (one of the struct's fields):
// type-checked, and structs reduced to their declared fields with null fields left out.
function convert(value, typeRef, where) {
  if (['string', 'boolean', 'number'].includes(typeRef.primitive)) {
    if (typeof value !== typeRef.primitive) throw new TypeError(`${where}: expected a ${typeRef.primitive}, found ${JSON.stringify(value)}`);
    return value;
  }
  if (typeRef.collection) {
    const { kind, elementtype } = typeRef.collection;
    if (kind === 'array') {
      if (!Array.isArray(value)) throw new TypeError(`${where}: expected a list, found ${JSON.stringify(value)}`);
      return value.map((item, i) => convert(item, elementtype, `${where}[${i}]`));
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new TypeError(`${where}: expected a mapping, found ${JSON.stringify(value)}`);
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, convert(item, elementtype, `${where}.${key}`)]));
  }
  if (typeRef.fqn) return struct(value, typeRef.fqn, where);
  return value;  // any
}

function struct(value, fqn, where) {
  const properties = assembly.types[fqn].properties;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where}: expected a mapping (${fqn}), found ${JSON.stringify(value)}`);
  }
  const declared = new Map(properties.map((p) => [p.name, p]));
  const fields = {};
  for (const [key, item] of Object.entries(value)) {
    const property = declared.get(key);
    if (!property) {
      throw new TypeError(`${where}.${key}: not a field cdk8s's ${fqn} declares (${[...declared.keys()].join(', ')})`);
    }
    if (item !== undefined && item !== null) fields[key] = convert(item, property.type, `${where}.${key}`);
  }
  for (const property of properties) {
    if (!property.optional && fields[property.name] === undefined) {
      throw new TypeError(`${where}.${property.name}: required by cdk8s's ${fqn}, missing`);
    }
  }
  return fields;
}

// jsii's kernel hands cdk8s a null found inside an object as undefined, so the field disappears
// from the output; a null list item stays (JSON writes an undefined item as null), and a top-level
// field set to null is absent. The same here, so both paths give the same objects.
function likeJsii(value) {
  if (Array.isArray(value)) return value.map(likeJsii);
  if (value === null || typeof value !== 'object') return value;
  const fields = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null) fields[key] = likeJsii(item);
  }
  return fields;
}

function resolveChart(app, chartId, bodies) {
  // Names are explicit and human; cdk8s must never append hashes to them.
  const chart = new cdk8s.Chart(app, chartId, { disableResourceNameHashes: true });
  bodies.forEach((body, index) => {
    const { apiVersion, kind, metadata: given, ...rest } = body;
    const metadata = struct(given, 'cdk8s.ApiObjectMetadata', `object ${index} (${kind}) metadata`);
    if (typeof metadata.name !== 'string') throw new TypeError(`object ${index} (${kind}) metadata.name: expected a string, found ${JSON.stringify(metadata.name)}`);
    const object = new cdk8s.ApiObject(chart, `${kind}-${metadata.name}`, { apiVersion, kind, metadata });
    const patches = Object.entries(rest).filter(([, value]) => value !== null)
      .map(([key, value]) => cdk8s.JsonPatch.add(`/${key}`, likeJsii(value)));
    if (patches.length) object.addJsonPatch(...patches);
  });
  return chart.toJson();
}

// A chart id can be used once per App (constructs refuses a second child of the same id), so a
// repeated id gets a fresh App; an App holds nothing that reaches the output.
let app = null;
let ids = new Set();
function scopeFor(chartId) {
  if (app === null || ids.has(chartId)) {
    app = new cdk8s.App();
    ids = new Set();
  }
  ids.add(chartId);
  return app;
}

function pause() {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
}

// Exactly `size` bytes from stdin, or null at end of file.
function readExactly(size) {
  const buffer = Buffer.alloc(size);
  let filled = 0;
  while (filled < size) {
    let n;
    try {
      n = fs.readSync(IN, buffer, filled, size - filled, null);
    } catch (error) {
      if (error.code === 'EAGAIN') { pause(); continue; }
      if (error.code === 'EOF') return null;
      throw error;
    }
    if (n === 0) return null;
    filled += n;
  }
  return buffer;
}

function writeAll(buffer) {
  let written = 0;
  while (written < buffer.length) {
    try {
      written += fs.writeSync(OUT, buffer, written, buffer.length - written);
    } catch (error) {
      if (error.code === 'EAGAIN') { pause(); continue; }
      // The parent is gone (a killed process's pipes close before the kernel delivers
      // PR_SET_PDEATHSIG to its children): nobody can read the answer; end without a stack trace.
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    }
  }
}

for (;;) {
  const header = readExactly(4);
  if (header === null) break;
  const payload = readExactly(header.readUInt32BE(0));
  if (payload === null) break;
  const [chartId, bodies] = JSON.parse(payload.toString('utf8'));
  let reply;
  try {
    reply = [chartId, resolveChart(scopeFor(chartId), chartId, bodies), null];
  } catch (error) {
    reply = [chartId, null, String((error && error.stack) || error)];
  }
  const data = Buffer.from(JSON.stringify(reply), 'utf8');
  const frame = Buffer.alloc(4);
  frame.writeUInt32BE(data.length, 0);
  writeAll(Buffer.concat([frame, data]));
}
process.exit(0);
