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
// Wire format (stdin -> stdout): frames of the marker "cdk8", a 4-byte big-endian length and UTF-8
// JSON. Request [chartId, bodies]; reply [chartId, objects, null] or [chartId, null, errorText]
// (the reason a body is refused, or cdk8s's error with its stack), in request order. Anything a
// library prints goes to stderr, so it can never corrupt a frame.
'use strict';
const fs = require('fs');
const path = require('path');

const IN = 0;
const OUT = 1;
const MARKER = Buffer.from('cdk8');  // starts every frame both ways (resolver_pool.py HEADER)
Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => process.stderr });

const libraries = process.argv[2];
const cdk8s = require(path.join(libraries, 'cdk8s'));

// What jsii carries from a Python body to cdk8s, and what it refuses; the same rules here, so
// both paths give the same objects or both refuse (tests/test_resolver.py compares them):
// - ApiObject's props are the struct cdk8s.ApiObjectProps {apiVersion, kind, metadata}: declared
//   fields only, each of its declared type (jsii's kernel checks them), null fields left out. The
//   Python binding builds a struct-typed field from a dict by keyword (`ApiObjectMetadata(**metadata)`),
//   and its keywords are the snake_case names: `owner_references` is taken (and becomes
//   ownerReferences), `ownerReferences` is not. Structs inside a list reach the kernel as mappings
//   with the JSON names (an OwnerReference's `apiVersion`), and the kernel drops keys it does not
//   know: refused here. Fields and types come from the same assembly jsii uses, cdk8s's .jsii.
// - every other top-level field becomes a JSON patch `add` of its value, typed any, in which jsii's
//   kernel turns null into undefined: a field whose value is null disappears (at the top level too:
//   adding undefined removes the field its path names), a null list item stays (JSON writes an
//   undefined item as null). Numbers beyond a double's range are refused (JSON.parse makes them
//   Infinity, which jsii drops and JSON writes as null).
// - what would not survive as data is refused, once null-valued keys are gone (jsii's Python side
//   reads back the smaller mapping): a `__proto__` key (JavaScript assignment sets the
//   prototype instead, and jsii refuses it), and a mapping whose only key is one of jsii's wire
//   tokens `$jsii.byref|date|enum|map` (or byref with `$jsii.interfaces`), which jsii's Python
//   runtime reads back as a reference, date, enum or map instead of data (jsii 1.142
//   jsii/_kernel/providers/process.py `ohook`): jsii refuses such a body or returns another value.
// Both paths hand cdk8s the body's JSON (charts/base.py round-trips it for jsii too), so tuples
// are lists and values JSON cannot hold are refused before either.
const assembly = JSON.parse(fs.readFileSync(path.join(libraries, 'cdk8s', '.jsii'), 'utf8'));

// A body this resolver refuses: the parent reports the message alone (no stack), naming the chart.
class Refused extends Error {}

const WIRE_TOKENS = new Set(['$jsii.byref', '$jsii.date', '$jsii.enum', '$jsii.map']);

function checkKey(key, where) {
  if (key === '__proto__') {
    throw new Refused(`${where}: the key "__proto__" cannot be carried through cdk8s (JavaScript would not keep it as data)`);
  }
}

function checkMapping(mapping, where) {
  // `$jsii.interfaces` goes with a reference only: {byref, interfaces} is read as a reference too.
  const keys = Object.keys(mapping).filter((key) => key !== '$jsii.interfaces' || !('$jsii.byref' in mapping));
  if (keys.length === 1 && WIRE_TOKENS.has(keys[0])) {
    throw new Refused(`${where}: a mapping whose only key is ${JSON.stringify(keys[0])} is a jsii wire token, not data`);
  }
}

function describe(value) {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

// ``keywords``: a struct-typed value here is built by the Python binding from a dict (keys are its
// snake_case keywords); inside a collection the kernel builds it (keys are the JSON names).
function convert(value, typeRef, where, keywords) {
  if (['string', 'boolean', 'number'].includes(typeRef.primitive)) {
    if (typeof value !== typeRef.primitive) throw new Refused(`${where}: expected a ${typeRef.primitive}, found ${describe(value)}`);
    return value;
  }
  if (typeRef.collection) {
    const { kind, elementtype } = typeRef.collection;
    if (kind === 'array') {
      if (!Array.isArray(value)) throw new Refused(`${where}: expected a list, found ${describe(value)}`);
      return value.map((item, i) => convert(item, elementtype, `${where}[${i}]`, false));
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Refused(`${where}: expected a mapping, found ${describe(value)}`);
    }
    checkMapping(value, where);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => {
      checkKey(key, `${where}.${key}`);
      return [key, convert(item, elementtype, `${where}.${key}`, false)];
    }));
  }
  if (typeRef.fqn) return struct(value, typeRef.fqn, where, keywords);
  return likeJsii(value, where);  // any
}

// The keyword jsii's Python binding gives a struct field: apiVersion -> api_version.
function pythonName(name) {
  return name.replace(/[A-Z]/g, (capital) => `_${capital.toLowerCase()}`);
}

function struct(value, fqn, where, keywords) {
  const properties = assembly.types[fqn].properties;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Refused(`${where}: expected a mapping (${fqn}), found ${describe(value)}`);
  }
  const accepted = new Map(properties.map((p) => [keywords ? pythonName(p.name) : p.name, p]));
  const fields = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null) continue;
    checkKey(key, `${where}.${key}`);
    const property = accepted.get(key);
    if (!property) {
      throw new Refused(`${where}.${key}: not a field of cdk8s's ${fqn} as ${keywords ? "its Python binding takes it" : "jsii's kernel reads it"} (${[...accepted.keys()].join(', ')})`);
    }
    fields[property.name] = convert(item, property.type, `${where}.${key}`, true);
  }
  for (const property of properties) {
    if (!property.optional && fields[property.name] === undefined) {
      throw new Refused(`${where}.${property.name}: required by cdk8s's ${fqn}, missing`);
    }
  }
  return fields;
}

function likeJsii(value, where) {
  if (Array.isArray(value)) return value.map((item, i) => likeJsii(item, `${where}[${i}]`));
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Refused(`${where}: the number is beyond a double's range`);
  }
  if (value === null || typeof value !== 'object') return value;
  const fields = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null) continue;
    checkKey(key, `${where}.${key}`);
    fields[key] = likeJsii(item, `${where}.${key}`);
  }
  checkMapping(fields, where);
  return fields;
}

function resolveChart(app, chartId, bodies) {
  // Names are explicit and human; cdk8s must never append hashes to them.
  const chart = new cdk8s.Chart(app, chartId, { disableResourceNameHashes: true });
  bodies.forEach((body, index) => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Refused(`object ${index}: expected a mapping, found ${describe(body)}`);
    const { apiVersion, kind, metadata, ...rest } = body;
    const named = typeof metadata?.name === 'string' && typeof kind === 'string';
    const where = named ? `object ${index} (${kind} ${metadata.name})` : `object ${index}`;
    const props = struct({ apiVersion, kind, metadata }, 'cdk8s.ApiObjectProps', where, false);
    if (typeof props.metadata?.name !== 'string') {
      throw new Refused(`${where}.metadata.name: expected a string, found ${describe(props.metadata?.name)}`);
    }
    const object = new cdk8s.ApiObject(chart, `${kind}-${props.metadata.name}`, props);
    const patches = Object.entries(rest).map(([key, value]) => {
      checkKey(key, `${where}.${key}`);
      if (key === 'constructor' && value === null) {
        // Adding undefined leaves an own `constructor` field, and jsii's kernel then cannot return the object.
        throw new Refused(`${where}.constructor: null here is an object jsii's kernel cannot return`);
      }
      return cdk8s.JsonPatch.add(`/${key}`, value === null ? undefined : likeJsii(value, `${where}.${key}`));
    });
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
  const header = readExactly(8);
  if (header === null) break;
  if (!header.subarray(0, 4).equals(MARKER)) {
    process.stderr.write(`cdk8s resolver: not a request frame: ${JSON.stringify(header.toString('latin1'))}\n`);
    process.exit(1);
  }
  const payload = readExactly(header.readUInt32BE(4));
  if (payload === null) break;
  let chartId = null;
  let data;
  try {
    const [id, bodies] = JSON.parse(payload.toString('utf8'));
    chartId = id;
    data = JSON.stringify([chartId, resolveChart(scopeFor(chartId), chartId, bodies), null]);
  } catch (error) {
    // Refused, cdk8s failed, or the request or answer is too big for a JavaScript string: this
    // chart fails and the resolver goes on (a null id: the request could not even be read).
    const reason = error instanceof Refused ? error.message : String((error && error.stack) || error);
    data = JSON.stringify([chartId, null, reason.slice(0, 100000)]);
  }
  data = Buffer.from(data, 'utf8');
  const frame = Buffer.alloc(8);
  MARKER.copy(frame, 0);
  frame.writeUInt32BE(data.length, 4);
  writeAll(Buffer.concat([frame, data]));
}
process.exit(0);
