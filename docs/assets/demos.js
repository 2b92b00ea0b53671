/* Explorable demo figures: a slider picks the value of the swept parameter and shows that run's
   figure (both palettes) and provenance. The build writes every value's figure into the page, the
   first one shown; without this script the slider stays hidden and the first value is what shows. */
(function () {
  "use strict";

  function setup(figure) {
    var input = figure.querySelector("input.kb-sweep-input");
    var control = figure.querySelector(".kb-sweep-control");
    if (!input || !control || figure.dataset.kbReady) return;
    figure.dataset.kbReady = "1";
    var output = control.querySelector("output");
    var parts = figure.querySelectorAll("[data-kb-index]");
    var frames = figure.querySelectorAll(".kb-figure-frame[data-kb-index]");
    var name = input.dataset.kbName || "";

    function show() {
      var index = String(Number(input.value) || 0);
      var value = "";
      frames.forEach(function (frame) {
        if (frame.dataset.kbIndex === index) value = frame.dataset.kbValue || "";
      });
      parts.forEach(function (part) {
        part.hidden = part.dataset.kbIndex !== index;
      });
      if (output) output.textContent = value;
      input.setAttribute("aria-valuetext", name + " = " + value);
    }

    input.addEventListener("input", show);
    control.hidden = false;
    show(); // the browser may have kept the slider's position (back and forward)
  }

  function setupAll() {
    document.querySelectorAll("figure.kb-sweep").forEach(setup);
  }

  // Material's instant navigation swaps the page without reloading scripts; document$ emits per page.
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(setupAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupAll);
  } else {
    setupAll();
  }
})();
