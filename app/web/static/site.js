// Small improvements on top of a page that works without JavaScript.
(function () {
  "use strict";
  var form = document.getElementById("search-form");

  // "Use my location": fill the location field with lat,lon and search.
  var button = document.getElementById("use-location");
  var near = document.getElementById("near");
  var status = document.getElementById("location-status");
  if (form && button && near && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.dataset.finding;
      navigator.geolocation.getCurrentPosition(function (position) {
        near.value = position.coords.latitude.toFixed(4) + "," + position.coords.longitude.toFixed(4);
        status.textContent = button.dataset.found;
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }, function () {
        status.textContent = button.dataset.failed;
        near.focus();
      }, { timeout: 15000, maximumAge: 600000 });
    });
    // "near me" was typed without a place: ask for the location once, as the button would.
    if (button.dataset.auto && !near.value) { button.click(); }
  }

  // Leave empty fields out of the address, so shared links stay short.
  if (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && field.value === "" && !field.disabled) {
          field.disabled = true;
          field.dataset.wasEmpty = "1";
        }
      });
    });
    // Coming back with the Back button restores the page as it was left: enable them again.
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(form.querySelectorAll("[data-was-empty]"), function (field) {
        field.disabled = false;
        delete field.dataset.wasEmpty;
      });
    });
  }

  // Put the number of results into the (hidden) live region again once the page has loaded,
  // so that screen readers announce it as they would after an in-page update.
  var results = document.getElementById("result-status");
  if (results) {
    var text = results.textContent;
    results.textContent = "";
    window.setTimeout(function () { results.textContent = text; }, 150);
  }

  // A problem with the search: take the reader straight to it.
  var problems = document.getElementById("problems");
  if (problems) { problems.focus(); }

  // Wide screens have room to show the filters from the start.
  var filters = document.getElementById("filters");
  if (filters && window.matchMedia && window.matchMedia("(min-width: 64em)").matches) {
    filters.open = true;
  }

  var print = document.getElementById("print-page");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
