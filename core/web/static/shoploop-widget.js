/*
 * shoploop storefront widget — one <script> tag, no framework, no build step (docs/web.md).
 *
 *   <script src="https://loop.example.com/static/shoploop-widget.js" async
 *           data-connection="shop" data-product="4711" data-placement="product_page"></script>
 *
 * Renders the placement's recommendations with their reasons (a labelled section with a list,
 * text set with textContent only, never as HTML) and reports impressions (an item at least half
 * visible) and clicks to POST /api/v1/events of the same server. The shop reports its own
 * add-to-cart with shoploop.track("add_to_cart", productId, {placement: ...}).
 *
 * Experiments (docs/experiments.md): data-visitor="<the shop's visitor id>" (or "auto": a random
 * id kept in localStorage — only with the visitor's consent) names the unit of a visitor
 * experiment; events carry the answer's experiment and the unit, the server finds the arm.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) { return; }
  var data = script.dataset;
  // The app's base URL is where this file came from (works behind a path prefix too).
  var base = script.src.replace(/\/static\/shoploop-widget\.js(\?.*)?$/, "");
  var lang = (data.lang || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
  var TEXT = {
    en: {title: "Recommended for you", loading: "Loading recommendations…"},
    de: {title: "Empfehlungen für Sie", loading: "Empfehlungen werden geladen…"}
  };
  var text = TEXT[lang] || TEXT.en;
  var root = window.shoploop = window.shoploop || {};
  root.widgets = (root.widgets || 0) + 1;
  var number = root.widgets;
  root.experiments = root.experiments || {};  // placement -> the experiment of its last answer

  function visitorId() {
    if (data.visitor !== "auto") { return data.visitor || null; }
    try {
      var stored = window.localStorage.getItem("shoploop-visitor");
      if (!stored) { stored = eventId(); window.localStorage.setItem("shoploop-visitor", stored); }
      return stored;
    } catch (e) {
      return null;  // storage blocked: no visitor unit, the page still works
    }
  }
  var visitor = visitorId();

  function eventId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // -- event reports: batched, sent as text/plain (no CORS preflight), kept alive on unload
  var queue = [];
  var timer = null;

  // shoploop.pending: events queued or in flight, on all widgets of the page (0: all sent).
  root.pending = root.pending || 0;

  function flush() {
    timer = null;
    while (queue.length) {
      var events = queue.splice(0, 50);
      fetch(base + "/api/v1/events", {
        method: "POST", mode: "cors", credentials: "omit", keepalive: true,
        headers: {"Content-Type": "text/plain;charset=UTF-8"},
        body: JSON.stringify({events: events})
      }).catch(function () { /* reporting never breaks the page */ })
        .then(function () { root.pending -= events.length; });
    }
  }

  function report(event, now) {
    event.event_id = eventId();
    root.pending += 1;
    queue.push(event);
    if (now) { flush(); } else if (timer === null) { timer = setTimeout(flush, 250); }
  }

  root.track = root.track || function (type, productId, options) {
    options = options || {};
    var placement = options.placement || data.placement || "product_page";
    report({type: type, product_id: String(productId),
            connection: options.connection || data.connection,
            placement: placement,
            model_version: options.model_version || null,
            position: options.position === undefined ? null : options.position,
            experiment: options.experiment || root.experiments[placement] || null,
            customer: options.customer || data.customer || null,
            visitor: options.visitor || visitor}, true);
  };
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });

  // -- rendering
  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined && content !== null) { node.textContent = content; }
    return node;
  }

  function price(amount, currency) {
    if (amount === null || amount === undefined) { return ""; }
    try {
      return new Intl.NumberFormat(lang, {style: "currency", currency: currency || "EUR"})
        .format(Number(amount));
    } catch (e) {
      return amount + " " + (currency || "");
    }
  }

  function productUrl(id) {
    return (data.productUrl || "/products/{id}").replace("{id}", encodeURIComponent(id));
  }

  function addStyles() {
    if (data.styles === "none" || document.getElementById("shoploop-widget-styles")) { return; }
    var style = element("style");
    style.id = "shoploop-widget-styles";
    // Low specificity (one class each): the shop's own CSS wins.
    style.textContent = [
      ".shoploop-widget{font:inherit;margin:1.5rem 0}",
      ".shoploop-widget h2{font-size:1.25rem;margin:0 0 .75rem}",
      ".shoploop-list{list-style:none;margin:0;padding:0;display:grid;gap:1rem;" +
        "grid-template-columns:repeat(auto-fill,minmax(12rem,1fr))}",
      ".shoploop-item{border:1px solid #d0d4da;border-radius:.5rem;padding:1rem}",
      ".shoploop-link{font-weight:600;color:inherit}",
      ".shoploop-link:focus-visible{outline:3px solid #1a5fd0;outline-offset:2px}",
      ".shoploop-price{display:block;margin:.25rem 0}",
      ".shoploop-reason{margin:.5rem 0 0;color:#4a5260;font-size:.9rem}"
    ].join("");
    document.head.appendChild(style);
  }

  var section = element("section", "shoploop-widget");
  var headingId = "shoploop-heading-" + number;
  var heading = element("h2", null, data.title || text.title);
  heading.id = headingId;
  section.setAttribute("aria-labelledby", headingId);
  section.setAttribute("aria-busy", "true");
  section.dataset.placement = data.placement || "";
  section.appendChild(heading);
  var status = element("p", "shoploop-status", text.loading);
  status.setAttribute("role", "status");
  section.appendChild(status);

  var target = data.target ? document.querySelector(data.target) : null;
  if (target) { target.appendChild(section); } else { script.after(section); }
  addStyles();

  function done(name, detail) {
    section.setAttribute("aria-busy", "false");
    section.dispatchEvent(new CustomEvent("shoploop:" + name, {bubbles: true, detail: detail}));
  }

  function render(answer) {
    var placement = answer.placement;
    section.dataset.placement = placement;
    var experiment = answer.experiment ? answer.experiment.name : null;
    if (experiment) { root.experiments[placement] = experiment; }
    section.removeChild(status);
    if (!answer.recommendations.length) { section.hidden = true; done("rendered", answer); return; }
    var list = element("ul", "shoploop-list");
    answer.recommendations.forEach(function (item, position) {
      var li = element("li", "shoploop-item");
      li.dataset.productId = item.product_id;
      var link = element("a", "shoploop-link", item.name || item.product_id);
      link.href = productUrl(item.product_id);
      var reasonId = headingId + "-reason-" + position;
      link.setAttribute("aria-describedby", reasonId);
      li.appendChild(link);
      li.appendChild(element("span", "shoploop-price", price(item.price, item.currency)));
      var reason = element("p", "shoploop-reason",
                           (item.reasons && item.reasons[lang]) || item.reason);
      reason.id = reasonId;
      li.appendChild(reason);
      var event = {connection: answer.connection, placement: placement,
                   product_id: item.product_id, model_version: answer.model_version,
                   position: position, experiment: experiment,
                   customer: data.customer || null, visitor: visitor};
      link.addEventListener("click", function () {
        report(Object.assign({type: "click"}, event), true);
      });
      li._shoploopImpression = event;
      list.appendChild(li);
    });
    section.appendChild(list);
    watchImpressions(list.children);
    done("rendered", answer);
  }

  function watchImpressions(items) {
    var seen = function (li) {
      report(Object.assign({type: "impression"}, li._shoploopImpression), false);
    };
    if (!("IntersectionObserver" in window)) { Array.prototype.forEach.call(items, seen); return; }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { observer.unobserve(entry.target); seen(entry.target); }
      });
    }, {threshold: 0.5});
    Array.prototype.forEach.call(items, function (li) { observer.observe(li); });
  }

  var query = new URLSearchParams();
  ["connection", "product", "customer", "cart", "placement", "k"].forEach(function (name) {
    if (data[name]) { query.set(name, data[name]); }
  });
  if (visitor) { query.set("visitor", visitor); }
  if (!query.has("k")) { query.set("k", "4"); }
  fetch(base + "/api/v1/recommendations?" + query.toString(), {mode: "cors", credentials: "omit"})
    .then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error((body.error && body.error.message) || response.status); }
        return body;
      });
    })
    .then(render)
    .catch(function (error) {
      console.warn("shoploop widget:", error.message || error);
      section.hidden = true;
      done("failed", {message: String(error.message || error)});
    });
}());
