// The draw-a-digit page: a drawing pad, what the model sees (28x28), the predicted class and one
// bar per class. Scripts come from the local server only (see server.ts for the routes).
import { ORT_PREFIX } from './ort-files'

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function pageHtml(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · convtorch serve</title>
<link rel="icon" href="data:,">
<style>
  body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 0; padding: 16px; color: #222; background: #f4f4f1; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .sub { color: #666; font-size: 13px; margin: 0 0 16px; }
  main { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
  #pad { width: 280px; height: 280px; background: #fff; border: 2px solid #333; border-radius: 6px; touch-action: none; cursor: crosshair; display: block; }
  body.dragging #pad { border-color: #1769aa; box-shadow: 0 0 0 4px #9cc8ea; }
  .tools { display: flex; gap: 8px; align-items: center; margin-top: 8px; font-size: 13px; }
  button, label.file { font: inherit; padding: 4px 12px; border: 1px solid #555; border-radius: 4px; background: #fff; cursor: pointer; }
  label.file input { display: none; }
  .seen { display: flex; gap: 8px; align-items: center; margin-top: 12px; font-size: 13px; color: #555; }
  #preview { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #999; background: #000; }
  #predicted { font-size: 72px; font-weight: bold; line-height: 1; margin: 0 0 8px; min-width: 1ch; }
  #bars { list-style: none; margin: 0; padding: 0; width: 320px; }
  #bars li { display: flex; align-items: center; gap: 8px; height: 24px; font-size: 14px; }
  #bars .name { width: 64px; text-align: right; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #bars .bar { flex: 1; height: 14px; background: #e2e2dc; border-radius: 3px; overflow: hidden; }
  #bars .fill { display: block; height: 100%; width: 0; background: #8a9bb0; transition: width 80ms linear; }
  #bars li.best .fill { background: #1769aa; }
  #bars li.best .name { font-weight: bold; }
  #bars .pct { width: 52px; font-variant-numeric: tabular-nums; color: #444; }
  #status { font-size: 13px; color: #444; margin-top: 12px; min-height: 1.4em; }
  body[data-state=error] #status { color: #b00020; }
</style>
</head>
<body>
<h1>Draw a digit</h1>
<p class="sub" id="model"></p>
<main>
  <section>
    <canvas id="pad" width="280" height="280" aria-label="drawing pad"></canvas>
    <div class="tools"><button id="clear" type="button">Clear</button><label class="file">Open image…<input id="file" type="file" accept="image/*"></label><span>or drop a file</span></div>
    <div class="seen"><canvas id="preview" width="28" height="28" aria-label="the model's 28x28 input"></canvas><span>what the model sees:<br>MNIST preprocessing, 28x28</span></div>
  </section>
  <section>
    <div id="predicted">?</div>
    <ol id="bars"></ol>
    <div id="status">Loading the model…</div>
  </section>
</main>
<script src="${ORT_PREFIX}ort.wasm.min.js"></script>
<script src="/modules.js"></script>
<script src="/app.js"></script>
</body>
</html>
`
}
