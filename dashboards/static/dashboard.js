/* Filters without a server. Every page holds the figures of every month;
   the month filter shows the chosen month's panels ([data-month-panel]) and
   the region filter the chosen region's rows ([data-region-row]). The choice
   lives in the address (#month=2024-03&region=East), so it travels with the
   links to other pages and to the other language ([data-keep-filters]). The
   store filter opens the chosen store's page. Without script, the latest
   month is shown. */
(function () {
  "use strict";

  function state() {
    return new URLSearchParams(window.location.hash.slice(1));
  }

  function options(id) {
    var select = document.getElementById(id);
    return select ? Array.prototype.map.call(select.options, function (o) { return o.value; }) : [];
  }

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  function apply() {
    var s = state();
    var month = s.get("month");
    if (options("month-filter").indexOf(month) < 0) {
      month = document.body.getAttribute("data-latest-month");
    }
    each("[data-month-panel]", function (el) {
      el.hidden = el.getAttribute("data-month-panel") !== month;
    });
    var monthSelect = document.getElementById("month-filter");
    if (monthSelect) { monthSelect.value = month; }

    var region = s.get("region") || "";
    if (options("region-filter").indexOf(region) < 0) { region = ""; }
    each("[data-region-row]", function (row) {
      row.hidden = region !== "" && row.getAttribute("data-region-row") !== region;
    });
    var regionSelect = document.getElementById("region-filter");
    if (regionSelect) { regionSelect.value = region; }

    var hash = s.toString();
    each("a[data-keep-filters]", function (a) {
      var base = a.getAttribute("href").split("#")[0];
      a.setAttribute("href", hash ? base + "#" + hash : base);
    });
  }

  function set(key, value) {
    var s = state();
    if (value) { s.set(key, value); } else { s.delete(key); }
    var hash = s.toString();
    try {
      history.replaceState(null, "", hash ? "#" + hash : window.location.pathname);
    } catch (e) {
      window.location.hash = hash;
    }
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var monthSelect = document.getElementById("month-filter");
    if (monthSelect) {
      monthSelect.addEventListener("change", function () { set("month", monthSelect.value); });
    }
    var regionSelect = document.getElementById("region-filter");
    if (regionSelect) {
      regionSelect.addEventListener("change", function () { set("region", regionSelect.value); });
    }
    var storeSelect = document.getElementById("store-filter");
    if (storeSelect) {
      storeSelect.addEventListener("change", function () {
        var target = storeSelect.options[storeSelect.selectedIndex].getAttribute("data-href");
        var hash = state().toString();
        window.location.href = target + (hash ? "#" + hash : "");
      });
    }
    window.addEventListener("hashchange", apply);
    apply();
  });
})();
