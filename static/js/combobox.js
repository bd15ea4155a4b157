/* A small accessible autocomplete over a <select data-combobox> (ARIA combobox with a listbox popup,
   WAI-ARIA Authoring Practices 1.2). Without this file the plain <select> works; with it, the person
   types part of a name (accents and case ignored) and picks with the arrows and Enter, or the mouse.
   The <select> stays in the form (hidden) and carries the value posted; the server still checks it. */
(function () {
  "use strict";
  var count = 0;
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function enhance(select) {
    count += 1;
    var id = select.id || "combobox-" + count;
    var listId = id + "-liste";
    var statusId = id + "-etat";
    var options = Array.prototype.filter.call(select.options, function (o) { return o.value !== ""; });

    var wrapper = document.createElement("div");
    wrapper.className = "combobox";
    var input = document.createElement("input");
    input.type = "text";
    input.id = id;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    ["aria-describedby", "aria-invalid", "aria-required", "required"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "combobox-list";
    list.setAttribute("role", "listbox");
    var label = document.querySelector("label[for='" + id + "']");
    if (label) {
      if (!label.id) label.id = id + "-label";
      list.setAttribute("aria-labelledby", label.id);
    }
    list.hidden = true;
    var status = document.createElement("p");
    status.id = statusId;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");

    select.id = id + "-select";
    select.hidden = true;
    select.removeAttribute("required");
    select.setAttribute("tabindex", "-1");
    select.parentNode.insertBefore(wrapper, select);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(status);
    wrapper.appendChild(select);

    var chosen = select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
    input.value = chosen && chosen.value ? chosen.text : "";
    var shown = [];
    var active = -1;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function mark(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function choose(option) {
      select.value = option.value;
      input.value = option.text;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      close();
    }
    function open() {
      var wanted = fold(input.value.trim());
      shown = options.filter(function (o) { return fold(o.text).indexOf(wanted) !== -1; }).slice(0, 50);
      list.innerHTML = "";
      shown.forEach(function (option, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = option.text;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(option); });
        list.appendChild(li);
      });
      list.hidden = shown.length === 0;
      input.setAttribute("aria-expanded", shown.length ? "true" : "false");
      status.textContent = shown.length ? shown.length + " commune" + (shown.length > 1 ? "s" : "") +
        " dans votre territoire." : "Aucune commune de votre territoire ne correspond.";
      active = -1;
    }

    input.addEventListener("input", open);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) open();
        mark(Math.min(active + 1, shown.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        mark(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        choose(shown[active]);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () {
      var typed = fold(input.value.trim());
      var exact = options.filter(function (o) { return fold(o.text) === typed || fold(o.text).indexOf(typed + " (") === 0; });
      if (exact.length === 1 && typed) {
        choose(exact[0]);
      } else if (!select.value || !typed || fold(select.options[select.selectedIndex].text) !== typed) {
        select.value = "";  // nothing chosen from the list: the server says so, nothing is guessed
      }
      close();
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-combobox]"), enhance);
})();
