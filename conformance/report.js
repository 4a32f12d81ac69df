// index.html's filters, folding and timelines drawn on demand. The page reads in full without it.
(function () {
  "use strict";
  const $ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const form = document.getElementById("filters");
  form.hidden = false;

  // ---- filters: status, release, rule, feature, words ------------------------------------
  function chosen(name) {
    return new Set($(`input[name=${name}]:checked`, form).map((i) => i.value));
  }
  function runsOf(el) {  // "2.2:passed 3.x:failed" -> [["2.2","passed"], ...]
    return (el.dataset.runs || "").split(" ").filter(Boolean).map((r) => r.split(":"));
  }
  // a rule lists its features; a scenario's is on its feature group
  function featuresOf(el) {
    const holder = el.closest("[data-features]");
    return ((holder && holder.dataset.features) || "").split(" ");
  }
  function apply() {
    const statuses = chosen("status");
    const releases = chosen("release");
    const rule = form.elements.rule.value.trim().toUpperCase();
    const feature = form.elements.feature.value;
    const words = form.elements.words.value.trim().toLowerCase();
    let shown = { rule: 0, scenario: 0 };
    for (const el of $(".filterable")) {
      const runs = runsOf(el).filter(([rel]) => releases.has(rel) || rel === "-");
      const ok =
        runs.some(([, st]) => statuses.has(st)) &&
        (!rule || (el.dataset.rules || "").split(" ").some((r) => r.includes(rule))) &&
        (!feature || featuresOf(el).includes(feature)) &&
        (!words || el.textContent.toLowerCase().includes(words));
      el.hidden = !ok;
      if (ok) shown[el.dataset.kind] += 1;
    }
    for (const group of $(".feature-group")) {
      group.hidden = !$(".filterable", group).some((el) => !el.hidden);
    }
    document.getElementById("shown").textContent =
      `showing ${shown.rule} rules and ${shown.scenario} scenarios`;
  }
  form.addEventListener("input", apply);
  form.addEventListener("submit", (e) => e.preventDefault());
  document.getElementById("expand").addEventListener("click", () => fold(true));
  document.getElementById("collapse").addEventListener("click", () => fold(false));
  function fold(open) {
    for (const d of $("details.rule, details.scenario, details.feature-group")) {
      if (!d.closest("[hidden]")) d.open = open;
    }
  }

  // ---- passing timelines: deflated once into the page, drawn when their scenario is opened ----
  let timelines = null;
  async function loadTimelines() {
    if (timelines) return timelines;
    const packed = document.getElementById("timeline-data");
    if (!packed || !("DecompressionStream" in window)) return (timelines = {});
    const bytes = Uint8Array.from(atob(packed.textContent.trim()), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    timelines = JSON.parse(await new Response(stream).text());
    return timelines;
  }
  async function draw(root) {
    const lazy = $(".tl-lazy", root);
    if (!lazy.length) return;
    const all = await loadTimelines();
    for (const slot of lazy) {
      const svg = all[slot.dataset.tl];
      if (svg) {
        slot.innerHTML = svg;
        slot.classList.remove("tl-lazy");
      }
    }
  }
  for (const d of $("details.scenario")) {
    d.addEventListener("toggle", () => d.open && draw(d));
    if (d.open) draw(d);
  }

  // ---- a link to a run opens what folds it --------------------------------------------------
  function reveal() {
    const target = location.hash && document.getElementById(location.hash.slice(1));
    if (!target) return;
    for (let el = target; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") el.open = true;
      if (el.hidden) el.hidden = false;
    }
    target.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  reveal();
  apply();
})();
