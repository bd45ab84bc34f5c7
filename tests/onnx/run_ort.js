// Runs exported models with ONNX Runtime (npm onnxruntime-node, CPU) for tests/test_onnx*.cpp.
// Usage: NODE_PATH=.../node_modules node run_ort.js JOBS.json
// JOBS.json: [{"model": "m.onnx", "input": "x.f32", "shape": [N, ...], "output": "y.f32"}, ...]
// where x.f32 / y.f32 are raw little-endian float32. Prints the runtime's version.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const job of jobs) {
    const session = await ort.InferenceSession.create(job.model, {intraOpNumThreads: 1});
    const bytes = fs.readFileSync(job.input);
    const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, job.shape)};
    const result = await session.run(feeds);
    const y = result[session.outputNames[0]].data;
    fs.writeFileSync(job.output, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  }
  console.log('onnxruntime-node ' + require('onnxruntime-node/package.json').version);
})().catch(e => { console.error(String(e.message || e)); process.exit(2); });
