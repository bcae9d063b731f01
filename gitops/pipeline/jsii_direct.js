// jsii's kernel in this Node process, talking to the Python host over stdin and stdout.
//
// Started by the cdk8s resolver (gitops/pipeline/resolver.py) through jsii's JSII_RUNTIME
// setting, which the Python runtime runs as `node --max-old-space-size=4069 <this file>`
// (jsii/_kernel/providers/process.py). jsii's own entry point (bin/jsii-runtime.js) spawns the
// kernel (lib/program.js) as a second Node process, gives it a socket as fd 3 for the API and
// relays every message between that socket and its own stdin/stdout; that costs a second Node
// boot and two extra hops per call. Measured here: a bare round trip 0.27 ms through the relay,
// 0.10 ms without it. This launcher runs the same lib/program.js in-process and maps its
// API descriptor 3 onto stdin (reads) and stdout (writes), which are the Python host's pipes.
//
// The relay also kept JavaScript's console output off the API channel; here stdout *is* the
// channel, so process.stdout is replaced before the kernel loads by a stream that wraps every
// write as {"stdout": base64} on stderr, the line format jsii's Python stderr sink decodes
// (stderr_sink in the same file) and the relay itself emits.
'use strict';
const fs = require('fs');
const path = require('path');

const API_FD = 3;
const readSync = fs.readSync;
const writeSync = fs.writeSync;
fs.readSync = function (fd, ...rest) {
  return readSync.call(this, fd === API_FD ? 0 : fd, ...rest);
};
fs.writeSync = function (fd, ...rest) {
  if (fd !== API_FD) return writeSync.call(this, fd, ...rest);
  try {
    return writeSync.call(this, 1, ...rest);
  } catch (error) {
    // The Python host is gone (its pipes close before the kernel delivers PR_SET_PDEATHSIG to
    // this process): nobody can read the answer, so end without the stack trace of an EPIPE.
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  }
};

function wrapped(key) {
  const { Writable } = require('stream');
  const stream = new Writable({
    write(chunk, _encoding, callback) {  // chunk: a Buffer (decodeStrings is on)
      writeSync(2, JSON.stringify({ [key]: chunk.toString('base64') }) + '\n');
      callback();
    },
  });
  stream.isTTY = false;
  return stream;
}
Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, value: wrapped('stdout') });

require(path.join(__dirname, '..', 'lib', 'program.js'));
