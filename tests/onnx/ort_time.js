// ONNX Runtime's side of scripts/bench_onnx.sh: times inference of an exported model on random
// inputs and prints one JSON line {"images_per_sec", "mean_ms", "median_ms"}.
// Usage: NODE_PATH=.../node_modules node ort_time.js MODEL.onnx SHAPE BATCH RUNS THREADS
//   SHAPE: one example's input dims, e.g. 1,28,28
'use strict';
const ort = require('onnxruntime-node');

(async () => {
  const [model, shapeText, batchText, runsText, threadsText] = process.argv.slice(2);
  const shape = shapeText.split(',').map(Number), batch = Number(batchText);
  const runs = Number(runsText), threads = Number(threadsText);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all'});
  const data = new Float32Array(shape.reduce((a, b) => a * b, batch));
  for (let i = 0; i < data.length; i++) data[i] = Math.random();
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, [batch, ...shape])};
  for (let i = 0; i < Math.max(3, runs / 10); i++) await session.run(feeds);  // warm-up
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const total = ms.reduce((a, b) => a + b, 0);
  ms.sort((a, b) => a - b);
  console.log(JSON.stringify({images_per_sec: runs * batch / total * 1e3, mean_ms: total / runs,
                              median_ms: ms[ms.length >> 1]}));
})().catch(e => { console.error(String(e.message || e)); process.exit(2); });
