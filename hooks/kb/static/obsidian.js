/* Math and diagrams in the browser, from this site's own copies of KaTeX and mermaid (no CDN).
 *
 * pymdownx.arithmatex leaves each formula as TeX in <span class="arithmatex">$...$</span> or
 * <div class="arithmatex">$$...$$</div> (as the note wrote it, so the search index reads the same); KaTeX (script, style sheet, fonts) is fetched only by a page
 * that has one, and renders each element in place. Material for MkDocs renders <pre class="mermaid">
 * itself with the global `mermaid` when there is one, and fetches mermaid from unpkg.com when there is
 * none: the stand-in below is that global, and loads the site's copy the first time a diagram is drawn.
 * Material's instant navigation swaps pages without running scripts again; document$ tells us each time.
 */
(function () {
  "use strict";
  var vendor = new URL("../vendor/", document.currentScript.src);
  var loading = {};

  function load(path) {
    var url = new URL(path, vendor).href;
    if (!loading[url]) {
      loading[url] = new Promise(function (resolve, reject) {
        var css = /\.css$/.test(url);
        var el = document.createElement(css ? "link" : "script");
        if (css) { el.rel = "stylesheet"; el.href = url; } else { el.src = url; }
        el.onload = function () { resolve(); };
        el.onerror = function () { reject(new Error("could not load " + url)); };
        document.head.appendChild(el);
      });
    }
    return loading[url];
  }

  function renderMath() {
    var formulas = Array.prototype.filter.call(document.querySelectorAll(".arithmatex"), function (el) {
      return !el.hasAttribute("data-kb-math");
    });
    if (!formulas.length) return;
    Promise.all([load("katex/katex.min.css"), load("katex/katex.min.js")]).then(function () {
      formulas.forEach(function (el) {
        var tex = el.textContent.trim();
        var display = /^(\$\$|\\\[)/.test(tex);
        var mark = /^(\$\$|\\\[|\\\()/.test(tex) ? 2 : /^\$/.test(tex) ? 1 : 0;
        tex = tex.slice(mark, tex.length - mark);
        el.setAttribute("data-kb-math", display ? "display" : "inline");
        window.katex.render(tex, el, { displayMode: display, throwOnError: false, output: "htmlAndMathml" });
      });
    }, function (error) { console.error(error); });
  }

  if (typeof window.mermaid === "undefined") {
    var settings = { startOnLoad: false };
    var standIn = {
      initialize: function (config) { settings = config; },
      render: function (id, text) {
        return load("mermaid/mermaid.min.js").then(function () {
          var real = window.mermaid;
          if (real === standIn) throw new Error("mermaid did not load");
          if (!real.kbReady) { real.initialize(settings); real.kbReady = true; }
          return real.render(id, text);
        });
      },
    };
    window.mermaid = standIn;
  }

  window.kbMath = renderMath; // for what is drawn later: a link's preview card (docs/assets/kb.js)

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(renderMath);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderMath);
  } else {
    renderMath();
  }
})();
