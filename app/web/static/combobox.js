// The search box as a WAI-ARIA 1.2 combobox with a list of suggestions (the "list autocomplete"
// pattern). Without this script the box is a plain input that submits the form as typed.
(function () {
  "use strict";
  var input = document.querySelector("input[data-suggest-url]");
  if (!input || !input.form || !window.fetch || !window.URLSearchParams) { return; }
  var form = input.form;
  var minLength = Number(input.dataset.suggestMin); // suggestions start from this many letters
  var maxLength = Number(input.dataset.suggestMax); // and are refused for longer text
  var WAIT_MS = 150; // quiet time after a keystroke before asking
  var lang = document.documentElement.lang || "en";

  var list = document.createElement("ul");
  list.id = input.id + "-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.dataset.suggestName);
  list.hidden = true;
  input.insertAdjacentElement("afterend", list);

  var live = document.createElement("p");
  live.id = input.id + "-suggestions-status";
  live.className = "visually-hidden";
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  live.setAttribute("aria-atomic", "true");
  list.insertAdjacentElement("afterend", live);

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);

  var suggestions = []; // what the list shows now
  var active = -1; // the highlighted option, -1 for none
  var latest = 0; // number of the newest request: answers to older ones are dropped
  var waiting = null;
  var inFlight = null;
  var announcing = null;

  function isOpen() { return !list.hidden; }

  function open() {
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function close() {
    highlight(-1);
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function highlight(index) {
    if (active >= 0 && list.children[active]) {
      list.children[active].setAttribute("aria-selected", "false");
    }
    active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    var option = list.children[index];
    option.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  // Screen readers announce a change of text: empty the region first, so that the same count
  // after another keystroke is announced again.
  function announce(text) {
    window.clearTimeout(announcing);
    live.textContent = "";
    if (text) {
      announcing = window.setTimeout(function () { live.textContent = text; }, 100);
    }
  }

  function countText(count) {
    if (!count) { return input.dataset.suggestNone; }
    return count === 1 ? input.dataset.suggestOne : input.dataset.suggestMany.replace("{num}", count);
  }

  function render(items) {
    suggestions = items;
    active = -1;
    input.removeAttribute("aria-activedescendant");
    list.textContent = "";
    items.forEach(function (item, index) {
      var option = document.createElement("li");
      option.id = list.id + "-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.index = index;
      option.dataset.kind = item.kind;
      var name = document.createElement("span");
      name.className = "suggestion-label";
      name.textContent = item.label;
      var detail = document.createElement("span");
      detail.className = "suggestion-detail";
      detail.textContent = item.detail;
      option.append(name, " – ", detail);
      list.appendChild(option);
    });
  }

  function show(items) {
    render(items);
    // An answer that comes back after the visitor left the box is not shown.
    if (document.activeElement !== input) { return; }
    if (items.length) { open(); } else { close(); }
    announce(countText(items.length));
  }

  function forget() {
    window.clearTimeout(waiting);
    if (inFlight) { inFlight.abort(); }
    inFlight = null;
    latest += 1;
    return latest;
  }

  function ask() {
    var text = input.value.trim();
    var ticket = forget();
    if (text.length < minLength || text.length > maxLength) {
      render([]);
      close();
      announce("");
      return;
    }
    waiting = window.setTimeout(function () { fetchSuggestions(text, ticket); }, WAIT_MS);
  }

  function fetchSuggestions(text, ticket) {
    var controller = window.AbortController ? new AbortController() : null;
    inFlight = controller;
    var url = input.dataset.suggestUrl + "?" + new URLSearchParams({ q: text, lang: lang });
    window.fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    }).then(function (response) {
      if (!response.ok) { throw new Error("suggestions answered " + response.status); }
      return response.json();
    }).then(function (answer) {
      if (ticket !== latest) { return; }
      inFlight = null;
      show(answer.suggestions || []);
    }).catch(function () {
      // No suggestions (offline, too many requests, aborted): the box still searches as typed.
      if (ticket === latest) { close(); }
    });
  }

  function choose(item) {
    forget();
    close();
    if (item.kind === "provider" && item.href) {
      var target = new URL(item.href, window.location.href);
      if (target.origin === window.location.origin) {
        target.searchParams.set("lang", lang);
        window.location.assign(target.href);
        return;
      }
    }
    // Show what was chosen while the search it stands for loads.
    input.value = item.label;
    window.location.assign(searchFor(item.params || { q: item.label }));
  }

  // The search a suggestion stands for (its parameters: a specialty, a group, an office's name
  // read word for word...), keeping the rest of the form: the place, the distance, the filters.
  // A new search starts in its usual order.
  function searchFor(params) {
    var fields = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      var replaced = name === input.name || name === "sort" || params.hasOwnProperty(name);
      if (value !== "" && !replaced) { fields.append(name, value); }
    });
    Object.keys(params).forEach(function (name) {
      [].concat(params[name]).forEach(function (value) { fields.append(name, value); });
    });
    return form.action.split("?")[0] + "?" + fields.toString();
  }

  input.addEventListener("input", function () {
    highlight(-1);
    ask();
  });

  input.addEventListener("keydown", function (event) {
    if (event.isComposing || event.ctrlKey || event.metaKey) { return; }
    var count = suggestions.length;
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (!count) { return; }
        event.preventDefault();
        var down = event.key === "ArrowDown";
        if (!isOpen()) {
          open();
          if (event.altKey) { return; } // Alt+Down opens the list without choosing
          highlight(down ? 0 : count - 1);
        } else if (down) {
          highlight((active + 1) % count);
        } else {
          highlight(active <= 0 ? count - 1 : active - 1);
        }
        return;
      case "Enter":
        if (isOpen() && active >= 0) {
          event.preventDefault();
          choose(suggestions[active]);
          return;
        }
        forget();
        close(); // and the form is sent as typed
        return;
      case "Escape":
        // The browser would empty a search box at once: close the list first.
        event.preventDefault();
        if (isOpen()) {
          close();
        } else if (input.value) {
          input.value = "";
          ask();
        }
        return;
      case "Tab":
        close();
        return;
    }
  });

  input.addEventListener("blur", close);

  // Keep the focus in the box while an option is clicked.
  list.addEventListener("mousedown", function (event) { event.preventDefault(); });
  list.addEventListener("click", function (event) {
    var option = event.target.closest("[role=option]");
    if (option) { choose(suggestions[Number(option.dataset.index)]); }
  });

  // Back to this page from the browser's history: the list from before is not wanted.
  window.addEventListener("pageshow", function () { forget(); close(); });
})();
