// The reviewers' queue and case pages: keyboard moves, box highlighting, zoom, re-typing at once.
// Plain script, no build step; every action still works as a plain form without it.
(function () {
  "use strict";
  var typing = function (el) { return el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName); };

  // --- queue: j/k move, Enter opens, / searches, c claims ----------------------------------------
  function queue() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.case-row"));
    var at = -1;
    function select(i) {
      if (!rows.length) return;
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, n) { r.classList.toggle("selected", n === at); });
      rows[at].scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (typing(document.activeElement)) { if (e.key === "Escape") document.activeElement.blur(); return; }
      if (e.key === "j") { select(at + 1); e.preventDefault(); }
      else if (e.key === "k") { select(at - 1); e.preventDefault(); }
      else if (e.key === "Enter" && at >= 0) { window.location = rows[at].dataset.href; }
      else if (e.key === "/") { document.getElementById("queue-search").focus(); e.preventDefault(); }
      else if (e.key === "c" && at >= 0) {
        var claim = rows[at].querySelector("form[action$='/claim']");
        if (claim) claim.submit();
      }
    });
  }

  // --- case page ---------------------------------------------------------------------------------
  function boxesFor(key, scope) {
    return (scope || document).querySelectorAll('rect.box[data-key="' + key + '"]');
  }
  function clearHighlights() {
    document.querySelectorAll("rect.box.hl").forEach(function (r) { r.classList.remove("hl"); });
    document.querySelectorAll(".evidence li.active").forEach(function (li) { li.classList.remove("active"); });
  }
  function highlight(key, scope, scroll) {
    clearHighlights();
    var found = boxesFor(key, scope);
    found.forEach(function (r) { r.classList.add("hl"); });
    document.querySelectorAll('.evidence li[data-key="' + key + '"]').forEach(function (li) { li.classList.add("active"); });
    if (scroll && found.length) found[0].closest("figure").scrollIntoView({ block: "center", behavior: "auto" });
    return found.length;
  }
  function setZoom(viewer, how) {
    var z = parseFloat(viewer.style.getPropertyValue("--zoom")) || 1;
    z = how === "in" ? Math.min(z * 1.25, 4) : how === "out" ? Math.max(z / 1.25, 0.5) : 1;
    viewer.style.setProperty("--zoom", z.toFixed(3));
  }
  function casePage() {
    document.addEventListener("click", function (e) {
      var link = e.target.closest(".show-box");
      if (link) {
        var article = link.closest("article.document");
        var li = link.closest("li[data-doc]");
        var scope = article || (li && document.getElementById("doc-" + li.dataset.doc));
        highlight(link.dataset.key, scope, true);
        e.preventDefault();
        return;
      }
      var zoom = e.target.closest("[data-zoom]");
      if (zoom) setZoom(zoom.closest(".viewer"), zoom.dataset.zoom);
    });
    // A field's box lights up while its input has the focus.
    document.addEventListener("focusin", function (e) {
      var input = e.target.closest(".fields input[data-key]");
      if (input) highlight(input.dataset.key, input.closest("article.document"), false);
    });
    // The notice: back to the pre-screen's text after an edit the reviewer does not want.
    var notice = document.getElementById("notice"), reset = document.getElementById("notice-reset");
    if (notice && reset) {
      reset.addEventListener("click", function () { notice.value = notice.dataset.original; notice.focus(); });
    }
    // Re-typing takes effect at once: the case is re-assessed on the server.
    document.querySelectorAll("select.retype-select").forEach(function (sel) {
      sel.addEventListener("change", function () { if (sel.value !== sel.dataset.current) sel.form.submit(); });
    });
    // n/p: next and previous document; +/-/0: zoom the document in view; Esc: back to the queue.
    var docs = Array.prototype.slice.call(document.querySelectorAll("article.document:not(.not-in-effect)"));
    var current = 0;
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) return;
      if ((e.key === "n" || e.key === "p") && docs.length) {
        current = Math.max(0, Math.min(docs.length - 1, current + (e.key === "n" ? 1 : -1)));
        docs[current].scrollIntoView({ block: "start" });
        docs[current].focus({ preventScroll: true });
      } else if ((e.key === "+" || e.key === "=" || e.key === "-" || e.key === "0") && docs.length) {
        setZoom(docs[current].querySelector(".viewer"), e.key === "-" ? "out" : e.key === "0" ? "fit" : "in");
      } else if (e.key === "Escape") {
        window.location = "/review/queue";
      }
    });
  }

  var page = document.querySelector("[data-page]");
  if (!page) return;
  if (page.dataset.page === "queue") queue();
  if (page.dataset.page === "case") casePage();
})();
