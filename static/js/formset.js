/* Household members added and removed in place (progressive enhancement of templates/cases/_members.html).
   Without this file the "Ajouter un membre" button posts the page back with one more row, and a member
   is removed by ticking its "Retirer" box; with it, both happen at once, and the change is announced. */
(function () {
  "use strict";
  function setUp(box) {
    var prefix = box.getAttribute("data-formset");
    var total = box.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var rows = box.querySelector("[data-formset-rows]");
    var empty = box.querySelector("template[data-formset-empty]");
    var status = box.querySelector("[data-formset-status]");
    var add = box.querySelector("[data-formset-add]");
    if (!total || !rows || !empty || !add) return;

    function say(text) { status.textContent = ""; window.setTimeout(function () { status.textContent = text; }, 50); }

    function enhanceRemove(row) {
      var box = row.querySelector("input[type=checkbox][name$='-DELETE']");
      if (!box || row.querySelector("[data-formset-remove]")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button-secondary";
      button.setAttribute("data-formset-remove", "");
      var legend = row.querySelector("legend");
      button.textContent = "Retirer " + (legend ? legend.textContent.trim().toLowerCase() : "ce membre");
      button.addEventListener("click", function () {
        box.checked = true;
        row.hidden = true;
        say((legend ? legend.textContent.trim() : "Membre") + " retiré. Il sera retiré du ménage à l'enregistrement.");
        add.focus();
      });
      box.closest(".field").hidden = true;
      row.appendChild(button);
    }

    Array.prototype.forEach.call(rows.querySelectorAll(".member-row"), enhanceRemove);

    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10) || 0;
      var html = empty.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      enhanceRemove(row);
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
      say("Membre " + (index + 1) + " ajouté.");
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-formset]"), setUp);
})();
