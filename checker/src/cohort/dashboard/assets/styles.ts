/** The dashboard's stylesheet (served as /dashboard/assets/dashboard.css); colours meet WCAG AA contrast on white. */
export const DASHBOARD_CSS = `
:root { --fg: #1a1a1a; --muted: #555; --line: #c8c8c8; --link: #0b4f9c; --focus: #b35c00;
  --pass-bg: #e3f4e6; --pass-fg: #0b5d1e; --fail-bg: #fde8e8; --fail-fg: #8a1c1c;
  --error-bg: #fff3d6; --error-fg: #6b4500; --none-bg: #f4f4f4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 10; }
.top { display: flex; justify-content: space-between; align-items: center; gap: 16px; padding: 8px 20px; border-bottom: 1px solid var(--line); background: #f7f9fc; }
.signout { display: flex; gap: 8px; align-items: center; }
main { padding: 12px 20px 40px; max-width: 1600px; }
h1 { font-size: 1.5rem; margin: 8px 0; }
h2 { font-size: 1.2rem; margin: 24px 0 8px; }
h3 { font-size: 1rem; margin: 8px 0; }
.meta, .muted { color: var(--muted); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; border: 1px solid #ddd; padding: 8px; max-height: 320px; overflow: auto; }
button { font: inherit; padding: 4px 12px; border: 1px solid #0b4f9c; background: #0b4f9c; color: #fff; border-radius: 4px; cursor: pointer; }
input, select, textarea { font: inherit; padding: 3px 6px; border: 1px solid #767676; border-radius: 4px; }
input[type=number] { width: 4.5em; }
.error { color: var(--fail-fg); background: var(--fail-bg); padding: 6px 10px; border-radius: 4px; }
.login { display: grid; gap: 6px; max-width: 320px; }
.inline, .filters { display: flex; flex-wrap: wrap; gap: 6px 8px; align-items: center; margin: 8px 0; }
.scroll { overflow-x: auto; border: 1px solid var(--line); }
table { border-collapse: collapse; }
.list th, .list td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
.grid { font-size: 13px; min-width: 100%; }
.grid th, .grid td { border: 1px solid var(--line); padding: 3px 5px; vertical-align: top; }
.grid thead th { background: #eef2f7; position: sticky; top: 0; }
.grid th.step { text-align: center; min-width: 78px; }
.grid th.step span { font-weight: normal; font-size: 11px; }
.grid th.name { position: sticky; left: 0; background: #fff; text-align: left; min-width: 140px; max-width: 220px; overflow-wrap: anywhere; }
.cell span { display: block; white-space: nowrap; }
.cell .ago, .latest .ago { font-size: 11px; }
.cell.pass { background: var(--pass-bg); color: var(--pass-fg); }
.cell.fail { background: var(--fail-bg); color: var(--fail-fg); }
.cell.error { background: var(--error-bg); color: var(--error-fg); }
.cell.none { background: var(--none-bg); color: var(--muted); }
.num { text-align: right; white-space: nowrap; }
.latest span { display: block; }
.sub-queued, .sub-grading { color: var(--error-fg); font-weight: 600; }
.stuck-reasons { max-width: 260px; font-size: 12px; }
tr.stuck th.name { border-left: 4px solid var(--fail-fg); }
.per-step span { display: block; font-size: 11px; white-space: nowrap; }
tr.flash td, tr.flash th { animation: flash 1.5s ease-out; }
@keyframes flash { from { background: #fff1a8; } }
.live-status { position: fixed; bottom: 0; right: 0; margin: 0; padding: 4px 10px; background: #f7f9fc; border-top-left-radius: 6px; border: 1px solid var(--line); font-size: 12px; color: var(--muted); }
.chart { display: block; }
.chart .axis { stroke: #767676; stroke-width: 1; }
.chart .grid-line { stroke: #ddd; stroke-width: 1; stroke-dasharray: 3 3; }
.chart .line { fill: none; stroke: #0b4f9c; stroke-width: 2; }
.chart .dot { fill: #0b4f9c; }
figure { margin: 0; }
figcaption { font-size: 12px; color: var(--muted); }
.timeline { list-style: none; padding: 0; }
.attempt { border-left: 3px solid var(--line); padding: 2px 0 8px 12px; margin-bottom: 8px; }
.res-pass { color: var(--pass-fg); font-weight: 600; }
.res-fail, .res-error { color: var(--fail-fg); font-weight: 600; }
.chip { display: inline-block; font-size: 12px; padding: 1px 6px; border-radius: 10px; margin: 1px 0; }
.chip.pass { background: var(--pass-bg); color: var(--pass-fg); }
.chip.fail { background: var(--fail-bg); color: var(--fail-fg); }
.chip.error { background: var(--error-bg); color: var(--error-fg); }
.checks { padding-left: 18px; }
.hint { background: #eef5ff; padding: 4px 8px; }
.notes { list-style: none; padding: 0; }
.notes li { border: 1px solid var(--line); border-radius: 4px; padding: 6px 10px; margin-bottom: 6px; }
.note-head { margin: 0; font-size: 13px; }
.note-body { margin: 4px 0 0; white-space: pre-wrap; }
.note-pending { color: var(--error-fg); }
.note-received { color: var(--link); }
.note-read { color: var(--pass-fg); font-weight: 600; }
.note-form { display: grid; gap: 6px; max-width: 640px; }
.compare { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.file-added { color: var(--pass-fg); }
.file-removed { color: var(--fail-fg); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;
