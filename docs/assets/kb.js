/* Link previews: hovering (with a mouse) or keyboard-focusing a link to a note or concept shows a card
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

  function fill(box, data, base) {
    box.replaceChildren();
    var head = el("p", "kb-preview-head");
    head.appendChild(el("strong", "kb-preview-title", data.title));
    var meta = data.kind === "note" && data.date ? data.date : data.kind;
    if (meta) head.appendChild(el("span", "kb-preview-meta", meta));
    box.appendChild(head);
    if (data.figure) {
      var frame = el("div", "kb-preview-figure");
      ["light", "dark"].forEach(function (theme) {
        var img = el("img");
        img.src = new URL(data.figure[theme], base).href + "#only-" + theme;
        img.alt = data.figure.alt || "";
        frame.appendChild(img);
      });
      box.appendChild(frame);
    }
    if (data.text) box.appendChild(el("p", "kb-preview-text", data.text));
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
      fill(box, data, url);
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

  // Material's instant navigation replaces the page's content: close a card left from the last page.
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(hide);
  }
})();
