// The draw-a-digit page's script (run in the browser, so plain ES2020 in a string): drawing with
// pointer events, a dropped or chosen image file, convtorch's MNIST preprocessing (the
// compiled module itself, from browser-modules.ts), the model in ONNX Runtime Web, the bars.
// window.convtorchServe exposes the state the headless-browser test reads back.
import { ORT_PREFIX } from './ort-files'

export const PAGE_SCRIPT = `(function () {
  'use strict';
  var preprocessMnist = convtorchModules.require('image/mnist-preprocess').preprocessMnist;
  var greyFromRgba = convtorchModules.require('image/srgb-grey').greyFromRgba;
  var pad = document.getElementById('pad');
  var context = pad.getContext('2d', { willReadFrequently: true });
  var preview = document.getElementById('preview').getContext('2d');
  var status = document.getElementById('status');
  var bars = document.getElementById('bars');
  var predicted = document.getElementById('predicted');
  var state = { ready: false, error: null, runs: 0, source: 'drawing', last: null };
  var session = null;
  var classNames = [];
  var pending = null;
  var running = false;
  var waiters = [];
  window.convtorchServe = state;
  /** Resolves once no prediction is running or waiting: what a test awaits after its input. */
  state.settled = function () {
    return new Promise(function (resolve) { if (!running && !pending) resolve(); else waiters.push(resolve); });
  };

  function clear() {
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, pad.width, pad.height);
    state.source = 'drawing';
  }

  function point(event) {
    var box = pad.getBoundingClientRect();
    return { x: (event.clientX - box.left) * pad.width / box.width, y: (event.clientY - box.top) * pad.height / box.height };
  }

  // Dark ink on white paper; preprocessMnist inverts it to MNIST's light-on-black.
  var stroke = null;
  function line(from, to) {
    context.strokeStyle = '#111111';
    context.lineWidth = pad.width / 14;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  }
  pad.addEventListener('pointerdown', function (event) {
    if (event.button > 0) return;
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    if (state.source !== 'drawing') clear();
    stroke = point(event);
    line(stroke, stroke);
    predictPad();
  });
  pad.addEventListener('pointermove', function (event) {
    if (!stroke) return;
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    if (events.length === 0) events = [event];
    for (var i = 0; i < events.length; i++) {
      var next = point(events[i]);
      line(stroke, next);
      stroke = next;
    }
    predictPad();
  });
  function endStroke() { stroke = null; }
  pad.addEventListener('pointerup', endStroke);
  pad.addEventListener('pointercancel', endStroke);
  document.getElementById('clear').addEventListener('click', function () { clear(); predictPad(); });

  /** The canvas as the grey plane a saved PNG of it decodes to. */
  function greyOf(target, width, height) {
    var rgba = target.getImageData(0, 0, width, height).data;
    return { channels: 1, height: height, width: width, pixels: greyFromRgba(rgba, width, height) };
  }

  function predictPad() { schedule(function () { return { image: greyOf(context, pad.width, pad.height), source: 'drawing' }; }); }

  // One prediction at a time; strokes drawn meanwhile are read once it ends (the latest wins).
  function schedule(read) {
    pending = read;
    if (!running && state.ready) run();
  }
  async function run() {
    running = true;
    try {
      while (pending) {
        var read = pending;
        pending = null;
        var taken = read();
        await predict(taken.image, taken.source);
      }
    } catch (error) {
      fail(error);
    } finally {
      running = false;
      var done = waiters;
      waiters = [];
      done.forEach(function (resolve) { resolve(); });
    }
  }

  async function predict(image, source) {
    var input = preprocessMnist(image);
    showInput(input.pixels);
    if (input.blank) {
      state.last = { source: source, blank: true };
      predicted.textContent = '?';
      status.textContent = 'Draw a digit (no ink found).';
      showBars(null, -1);
      state.runs++;
      return;
    }
    var started = performance.now();
    var outputs = await session.run({ input: new ort.Tensor('float32', input.pixels, [1, 1, 28, 28]) });
    var ms = performance.now() - started;
    var probabilities = Array.from(outputs.probabilities.data);
    var label = 0;
    // Ties go to the lower label, as convtorch's argmax does.
    for (var k = 1; k < probabilities.length; k++) if (probabilities[k] > probabilities[label]) label = k;
    state.last = { source: source, blank: false, label: label, className: classNames[label], probabilities: probabilities, logits: Array.from(outputs.logits.data), input: Array.from(input.pixels), inverted: input.inverted, ms: ms };
    state.runs++;
    predicted.textContent = classNames[label];
    status.textContent = (source === 'drawing' ? 'Your drawing' : source) + ': ' + classNames[label] + ' (' + (probabilities[label] * 100).toFixed(1) + '%), ' + ms.toFixed(1) + ' ms in ONNX Runtime Web';
    showBars(probabilities, label);
  }

  function showInput(pixels) {
    var data = preview.createImageData(28, 28);
    for (var i = 0; i < pixels.length; i++) {
      var v = Math.round(pixels[i] * 255);
      data.data[4 * i] = data.data[4 * i + 1] = data.data[4 * i + 2] = v;
      data.data[4 * i + 3] = 255;
    }
    preview.putImageData(data, 0, 0);
  }

  function showBars(probabilities, label) {
    var rows = bars.children;
    for (var k = 0; k < rows.length; k++) {
      var p = probabilities ? probabilities[k] : 0;
      rows[k].querySelector('.fill').style.width = (p * 100).toFixed(2) + '%';
      rows[k].querySelector('.pct').textContent = probabilities ? (p * 100).toFixed(1) + '%' : '';
      rows[k].className = k === label ? 'best' : '';
    }
  }

  async function readFile(file) {
    if (!file) return;
    if (!/^image\\//.test(file.type)) { status.textContent = file.name + ' is not an image (' + (file.type || 'unknown type') + ')'; return; }
    var bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (error) {
      status.textContent = file.name + ' could not be decoded: ' + error.message;
      return;
    }
    // At the file's own size, over white, as predict decodes it.
    var full = document.createElement('canvas');
    full.width = bitmap.width;
    full.height = bitmap.height;
    var fullContext = full.getContext('2d', { willReadFrequently: true });
    fullContext.fillStyle = '#ffffff';
    fullContext.fillRect(0, 0, full.width, full.height);
    fullContext.drawImage(bitmap, 0, 0);
    var image = greyOf(fullContext, full.width, full.height);
    clear();
    var scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
    context.drawImage(bitmap, (pad.width - bitmap.width * scale) / 2, (pad.height - bitmap.height * scale) / 2, bitmap.width * scale, bitmap.height * scale);
    state.source = file.name;
    schedule(function () { return { image: image, source: file.name }; });
  }
  document.addEventListener('dragover', function (event) { event.preventDefault(); document.body.classList.add('dragging'); });
  document.addEventListener('dragleave', function () { document.body.classList.remove('dragging'); });
  document.addEventListener('drop', function (event) {
    event.preventDefault();
    document.body.classList.remove('dragging');
    readFile(event.dataTransfer && event.dataTransfer.files[0]);
  });
  document.getElementById('file').addEventListener('change', function (event) { readFile(event.target.files[0]); });

  function fail(error) {
    state.error = String(error && error.message || error);
    status.textContent = 'Error: ' + state.error;
    document.body.dataset.state = 'error';
  }

  async function start() {
    clear();
    ort.env.wasm.wasmPaths = ${JSON.stringify(ORT_PREFIX)};
    // One thread: several need cross-origin isolation, and a 28x28 digit takes a millisecond.
    ort.env.wasm.numThreads = 1;
    var info = await (await fetch('/model.json')).json();
    classNames = info.classNames;
    document.getElementById('model').textContent = info.description;
    classNames.forEach(function (name) {
      var row = document.createElement('li');
      row.innerHTML = '<span class="name"></span><span class="bar"><span class="fill"></span></span><span class="pct"></span>';
      row.querySelector('.name').textContent = name;
      bars.appendChild(row);
    });
    session = await ort.InferenceSession.create('/model.onnx', { executionProviders: ['wasm'] });
    state.ready = true;
    document.body.dataset.state = 'ready';
    status.textContent = 'Draw a digit with the mouse or a finger, or drop an image file.';
    if (pending) run();
  }
  start().catch(fail);
})();
`
