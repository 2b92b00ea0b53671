/* The local graph of a note or concept, drawn from the rows and links the build writes into the page.
   Link previews: hovering (with a mouse) or keyboard-focusing a link to a note or concept shows a card
   with its title, date, first paragraph and first figure. The build marks such links with
   data-kb-preview (the URL of a small JSON file written beside the page); only that file is fetched.
   A tap on a touch screen opens the page, as without this script. Escape closes the card. */
(function () {
  "use strict";

  var SHOW_DELAY = 250; // ms of hover before the card shows (moving across a paragraph shows nothing)
  var HIDE_DELAY = 200; // ms to move the pointer from the link onto the card
  var cache = new Map();
  var card = null;
  var current = null;
  var showTimer = 0;
  var hideTimer = 0;
  var lastTouch = -Infinity;

  function load(url) {
    if (!cache.has(url)) {
      cache.set(url, fetch(url).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; }));
    }
    return cache.get(url);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function getCard() {
    if (card && document.body.contains(card)) return card;
    card = el("div", "kb-preview");
    card.id = "kb-preview";
    card.setAttribute("role", "tooltip");
    card.hidden = true;
    card.addEventListener("pointerenter", function () { clearTimeout(hideTimer); });
    card.addEventListener("pointerleave", function (e) { if (e.pointerType === "mouse") scheduleHide(); });
    document.body.appendChild(card);
    return card;
  }

  // The preview's text, its formulas as TeX in .arithmatex spans that the site's math script draws;
  // never read as HTML.
  function textOf(parts, text) {
    var p = el("p", "kb-preview-text");
    (parts || [["text", text]]).forEach(function (part) {
      if (part[0] === "math") p.appendChild(el("span", "arithmatex", part[1]));
      else p.appendChild(document.createTextNode(part[1]));
    });
    return p;
  }

  function fill(box, data, base, hash) {
    box.replaceChildren();
    var section = hash && data.sections ? data.sections[hash] : null; // [[page#Heading]]: that section
    var head = el("p", "kb-preview-head");
    head.appendChild(el("strong", "kb-preview-title", section ? data.title + " › " + section.title : data.title));
    var meta = data.kind === "note" && data.date ? data.date : data.kind;
    if (meta) head.appendChild(el("span", "kb-preview-meta", meta));
    box.appendChild(head);
    if (data.figure && !section) {
      var frame = el("div", "kb-preview-figure");
      ["light", "dark"].forEach(function (theme) {
        var img = el("img");
        img.src = new URL(data.figure[theme], base).href + "#only-" + theme;
        img.alt = data.figure.alt || "";
        if (data.figure.width && data.figure.height) { // the card has its final size before the figure loads
          img.width = data.figure.width;
          img.height = data.figure.height;
        }
        frame.appendChild(img);
      });
      box.appendChild(frame);
    }
    var shown = section || data;
    if (shown.text) box.appendChild(textOf(shown.parts, shown.text));
    if (window.kbMath && box.querySelector(".arithmatex")) window.kbMath();
  }

  function hashOf(link) {
    var hash = new URL(link.getAttribute("href"), location.href).hash;
    try { return decodeURIComponent(hash.slice(1)); } catch (e) { return hash.slice(1); }
  }

  function place(box, link) {
    var rect = link.getBoundingClientRect();
    var width = Math.min(box.offsetWidth, document.documentElement.clientWidth - 16);
    var left = Math.max(8, Math.min(rect.left, document.documentElement.clientWidth - width - 8));
    var below = rect.bottom + 8;
    var top = below + box.offsetHeight > window.innerHeight && rect.top - box.offsetHeight - 8 > 0
      ? rect.top - box.offsetHeight - 8 : below;
    box.style.left = left + window.scrollX + "px";
    box.style.top = top + window.scrollY + "px";
  }

  function show(link) {
    var url = new URL(link.getAttribute("data-kb-preview"), location.href).href;
    current = link;
    load(url).then(function (data) {
      if (current !== link || !data || !link.isConnected) return;
      var box = getCard();
      fill(box, data, url, hashOf(link));
      box.hidden = false;
      place(box, link);
      link.setAttribute("aria-describedby", box.id);
    });
  }

  function hide() {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    if (current) current.removeAttribute("aria-describedby");
    current = null;
    if (card) card.hidden = true;
  }

  function scheduleHide() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, HIDE_DELAY);
  }

  function linkOf(target) {
    return target && target.closest ? target.closest("a[data-kb-preview]") : null;
  }

  document.addEventListener("pointerdown", function (e) {
    if (e.pointerType !== "mouse") lastTouch = Date.now();
    if (!card || !card.contains(e.target)) hide();
  }, true);

  document.addEventListener("pointerover", function (e) {
    if (e.pointerType !== "mouse") return; // touch and pen: a tap opens the page
    var link = linkOf(e.target);
    if (!link) return;
    clearTimeout(hideTimer);
    if (link === current) return;
    clearTimeout(showTimer);
    showTimer = setTimeout(function () { show(link); }, SHOW_DELAY);
  });

  document.addEventListener("pointerout", function (e) {
    if (e.pointerType !== "mouse") return;
    var link = linkOf(e.target);
    if (!link || link.contains(e.relatedTarget)) return;
    clearTimeout(showTimer);
    if (link === current) scheduleHide();
  });

  document.addEventListener("focusin", function (e) {
    var link = linkOf(e.target);
    if (!link || Date.now() - lastTouch < 1000 || !link.matches(":focus-visible")) return;
    clearTimeout(hideTimer);
    show(link);
  });

  document.addEventListener("focusout", function (e) {
    if (current && e.target === current) hide();
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && card && !card.hidden) hide();
  });

  // --- the local graph: the page's rows and links (JSON written by the build) drawn as an arc diagram ---

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ROW = 32; // user units per row: every neighbour's link is at least 28 high (targets of 24 px and more)
  var FONT = 14; // label size in user units
  var CHAR = 0.58 * FONT; // average advance of a character, for the width of a label
  var MAX_BULGE = 96; // how far the widest arc reaches left of the nodes

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text) node.textContent = text;
    return node;
  }

  function r1(v) { return Math.round(v * 10) / 10; }

  // How a neighbour is linked to the page, by its row's "rel" (hooks.kb.reading.RELATIONS).
  var RELATIONS = ["links to this page", "linked from this page", "links both ways"];

  function drawLocalGraph(box) {
    var source = box.getAttribute("data-kb-graph");
    if (!source || box.querySelector("svg")) return;
    var data;
    try { data = JSON.parse(source); } catch (e) { return; }
    var rows = data.rows, edges = [];
    for (var k = 0; k + 1 < data.edges.length; k += 2) edges.push([data.edges[k], data.edges[k + 1]]);
    var spans = edges.map(function (e) { return (e[1] - e[0]) * ROW / 2; });
    var x = r1(12 + Math.min(Math.max.apply(null, [0].concat(spans)), MAX_BULGE));
    var longest = Math.max.apply(null, rows.map(function (r) {
      return Array.from(r.title + (r.date ? "  " + r.date : "")).length;
    }));
    var width = Math.floor(x + 20 + longest * CHAR + 12);
    var height = ROW * rows.length + (data.more ? ROW : 0) + 8;
    var y = function (i) { return ROW * i + ROW / 2 + 4; };
    var root = svg("svg", { "class": "kb-local-svg", width: width, viewBox: "0 0 " + width + " " + height,
                            role: "group", "aria-label": data.label });
    var arcs = svg("g", { "class": "kb-local-edges", "aria-hidden": "true" });
    edges.forEach(function (e, k) {
      var bulge = r1(Math.min(spans[k], MAX_BULGE) * 4 / 3); // a cubic curve reaches 3/4 of its control points
      var d = "M" + x + " " + y(e[0]) + " C" + r1(x - bulge) + " " + y(e[0]) + " " + r1(x - bulge) + " " + y(e[1]) +
              " " + x + " " + y(e[1]);
      arcs.appendChild(svg("path", { "class": "kb-local-edge" + (e[0] === 0 ? " kb-local-edge-page" : ""), d: d }));
    });
    root.appendChild(arcs);
    var nodes = svg("g", { "class": "kb-local-nodes" });
    rows.forEach(function (r, i) {
      var cy = y(i);
      var shape = r.kind === "concept" ? svg("circle", { cx: x, cy: cy, r: i === 0 ? 7 : 6 })
        : svg("rect", { x: x - 6, y: cy - 6, width: 12, height: 12, rx: 2 });
      var label = svg("text", { x: x + 16, y: (cy + FONT * 0.35).toFixed(1) }, r.title);
      if (r.date) label.appendChild(svg("tspan", { "class": "kb-local-date", dx: 8 }, r.date));
      if (i === 0) {
        var self = svg("g", { "class": "kb-local-node kb-local-" + r.kind + " kb-local-self" });
        self.appendChild(shape);
        self.appendChild(label);
        nodes.appendChild(self);
        return;
      }
      var link = svg("a", { "class": "kb-local-node kb-local-" + r.kind, href: r.href });
      link.appendChild(svg("title", {}, (r.full || r.title) + " (" + r.kind + ", " + RELATIONS[r.rel] + ")"));
      link.appendChild(svg("rect", { "class": "kb-local-hit", x: x - 14, y: cy - ROW / 2 + 2, width: width - x + 14, height: ROW - 4 }));
      link.appendChild(shape);
      link.appendChild(label);
      nodes.appendChild(link);
    });
    if (data.more) {  // to the "Linked from" heading (its id is "linked-from_1" where the author has one too)
      var list = box.closest("article") && box.closest("article").querySelector(".kb-backlinks");
      var heading = list && list.previousElementSibling;
      var more = svg("a", { "class": "kb-local-more", href: "#" + (heading && heading.id ? heading.id : "linked-from") });
      more.appendChild(svg("text", { x: x + 16, y: (y(rows.length) + FONT * 0.35).toFixed(1) },
                           "and " + data.more + " more: see Linked from"));
      nodes.appendChild(more);
    }
    root.appendChild(nodes);
    box.insertBefore(root, box.firstChild);
  }

  function drawLocalGraphs() {
    document.querySelectorAll(".kb-local-graph").forEach(drawLocalGraph);
  }

  // "On this page": where the theme shows no table of contents beside the text (a phone, a narrow
  // window: kb.css hides it from 76.25em on), a folded list of the article's sections, made from its
  // own headings, under the title and the lines the build puts there.
  function addContents() {
    var article = document.querySelector("article.md-content__inner");
    if (!article || article.querySelector(".kb-contents")) return;
    var headings = article.querySelectorAll("h2[id]");
    if (headings.length < 2) return;
    var box = el("details", "kb-contents");
    box.appendChild(el("summary", null, "On this page"));
    var list = el("ul");
    headings.forEach(function (h) {
      var item = el("li");
      var link = el("a", null, h.textContent.replace(/\u00b6\s*$/, "").trim());
      link.href = "#" + h.id;
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(list);
    var after = article.querySelector("h1");
    while (after && after.nextElementSibling &&
           after.nextElementSibling.matches(".kb-page-meta, .kb-concept-notes, .kb-problems")) {
      after = after.nextElementSibling;
    }
    if (after) after.insertAdjacentElement("afterend", box);
    else article.insertBefore(box, article.firstChild);
  }

  function onPage() {
    drawLocalGraphs();
    addContents();
  }

  // Material's instant navigation replaces the page's content: close a card left from the last page
  // and draw the new page's graph and contents.
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(function () { hide(); onPage(); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onPage);
  } else {
    onPage();
  }
})();
