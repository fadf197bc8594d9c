/* Progressive enhancement for the label forms. Everything works without it:
   the shortcut and row buttons are submit buttons (registry/labels/rows.py), and audio files
   can be hashed on the server. */
(function () {
  "use strict";

  var PARTS = ["composition", "lyrics", "vocals", "instrumentation", "production"];

  function setRadio(form, name, value) {
    form.querySelectorAll('input[type=radio][name="' + name + '"]').forEach(function (r) {
      r.checked = r.value === value;
    });
  }

  function checkedValue(form, name) {
    var r = form.querySelector('input[type=radio][name="' + name + '"]:checked');
    return r ? r.value : null;
  }

  function field(form, name) {
    return form.querySelector('[name="' + name + '"]');
  }

  function enhanceDeclare(form) {
    var status = document.getElementById("shortcut-status");
    var tracks = form.querySelectorAll("fieldset.track").length;
    form.querySelectorAll("button[data-shortcut]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var i, p;
        if (button.dataset.shortcut === "no_ai") {
          setRadio(form, "artwork", "none");
          for (i = 0; i < tracks; i++) {
            for (p = 0; p < PARTS.length; p++) setRadio(form, "t" + i + "_" + PARTS[p], "none");
          }
          status.textContent = "Every part of every track and the artwork are set to “No AI”. Check them, then review.";
        } else if (button.dataset.shortcut === "same_for_all") {
          for (i = 1; i < tracks; i++) {
            for (p = 0; p < PARTS.length; p++) {
              var v = checkedValue(form, "t0_" + PARTS[p]);
              if (v) setRadio(form, "t" + i + "_" + PARTS[p], v);
            }
            ["tools", "consent"].forEach(function (name) {
              field(form, "t" + i + "_" + name).value = field(form, "t0_" + name).value;
            });
            field(form, "t" + i + "_imitates").checked = field(form, "t0_imitates").checked;
          }
          status.textContent = "Track 1's answers are copied to every track. Change any track that differs, then review.";
        }
      });
    });
  }

  /* Rows of a formset (tracks, new artists): add, remove and move them in the page, as
     registry/labels/rows.py does on the server without JavaScript, with the same rule for
     positions: if they followed row order before, they still do after. */
  function enhanceFormset(form, box) {
    var prefix = box.dataset.formset;
    var noun = box.dataset.noun;
    var max = parseInt(box.dataset.max, 10) || 100;
    var total = form.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var template = form.querySelector('template[data-empty-row="' + prefix + '"]');
    var addButton = form.querySelector('[data-add-row="' + prefix + '"]');
    var status = document.getElementById("row-status");
    var indexed = new RegExp(prefix + "-(\\d+|__prefix__)-", "g");
    if (!total || !template) return;

    function rows() {
      return Array.prototype.filter.call(box.children, function (el) {
        return el.classList.contains("formset-row");
      });
    }
    function position(row) {
      return row.querySelector('input[name$="-position"]');
    }
    function positionsInOrder() {
      return rows().every(function (row, i) {
        var p = position(row);
        return !p || p.value.trim() === "" || p.value.trim() === String(i + 1);
      });
    }
    function named(row, i) {
      var title = row.querySelector('input[name$="-title"], input[name$="-name"]');
      var text = title && title.value.trim();
      return noun + " " + (i + 1) + (text ? " “" + text + "”" : "");
    }
    function plural(n) {
      return n + " " + noun.toLowerCase() + (n === 1 ? "" : "s");
    }
    function announce(text) {
      if (!status) return;
      // Clear first so the same words twice in a row are announced twice.
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
    function button(row, op) {
      return row.querySelector('button[data-row-op="' + op + '"]');
    }
    function renumber(followOrder) {
      var all = rows();
      all.forEach(function (row, i) {
        var to = prefix + "-" + i + "-";
        if (row.id) row.id = row.id.replace(indexed, to);
        row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
          ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
            var v = el.getAttribute(attr);
            if (v) el.setAttribute(attr, v.replace(indexed, to));
          });
        });
        row.querySelectorAll("button[data-row-op]").forEach(function (b) {
          b.value = b.value.replace(indexed, to);
        });
        row.querySelectorAll("[data-row-number]").forEach(function (el) { el.textContent = String(i + 1); });
        button(row, "up").hidden = i === 0;
        button(row, "down").hidden = i === all.length - 1;
        button(row, "remove").hidden = all.length === 1;
        if (followOrder && position(row)) position(row).value = String(i + 1);
      });
      total.value = String(all.length);
      if (addButton) addButton.disabled = all.length >= max;
      singleTitle();
    }
    function firstInput(row) {
      return row.querySelector('input[name$="-isrc"], input[name$="-name"]') || row.querySelector("input, select");
    }
    // A single's track title may stay empty: it takes the release title. Say so in the field itself.
    function singleTitle() {
      if (prefix !== "tracks") return;
      var release = form.querySelector('input[name="title"]');
      var all = rows();
      all.forEach(function (row) {
        var t = row.querySelector('input[name$="-title"]');
        if (t) t.placeholder = all.length === 1 && release && release.value.trim() ? release.value.trim() : "";
      });
    }

    if (addButton) {
      addButton.addEventListener("click", function (event) {
        event.preventDefault();
        var all = rows();
        if (all.length >= max) {
          announce("A release has at most " + max + " " + noun.toLowerCase() + "s: no row added.");
          return;
        }
        var follow = positionsInOrder();
        var holder = document.createElement("div");
        holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(all.length));
        var row = holder.querySelector(".formset-row");
        box.appendChild(row);
        var p = position(row);
        if (p && !follow) {
          var highest = all.reduce(function (m, r) {
            var v = parseInt(position(r) && position(r).value, 10);
            return isNaN(v) ? m : Math.max(m, v);
          }, 0);
          p.value = String(highest + 1);
        }
        renumber(follow);
        row.querySelectorAll("input[type=file][data-sha256-file]").forEach(enhanceAudio);
        firstInput(row).focus();
        announce(noun + " " + rows().length + " added.");
      });
    }

    box.addEventListener("click", function (event) {
      var b = event.target.closest("button[data-row-op]");
      if (!b || !box.contains(b)) return;
      event.preventDefault();
      var row = b.closest(".formset-row");
      var all = rows();
      var i = all.indexOf(row);
      var op = b.dataset.rowOp;
      var follow = positionsInOrder();
      var name = named(row, i);
      if (op === "remove") {
        if (all.length === 1) return;
        row.parentNode.removeChild(row);
        renumber(follow);
        var left = rows();
        var next = left[Math.min(i, left.length - 1)];
        var focusOn = button(next, "remove");
        (focusOn.hidden ? (addButton || firstInput(next)) : focusOn).focus();
        announce(name + " removed. " + plural(left.length) + " left.");
        return;
      }
      var to = op === "up" ? i - 1 : i + 1;
      if (to < 0 || to >= all.length) return;
      if (op === "up") box.insertBefore(row, all[to]);
      else box.insertBefore(all[to], row);
      renumber(follow);
      // Keep focus on the button pressed, or on the other move button once the row reaches an end.
      var again = button(row, op);
      (again.hidden ? button(row, op === "up" ? "down" : "up") : again).focus();
      announce(name + " moved " + op + " to row " + (to + 1) + ".");
    });

    var releaseTitle = form.querySelector('input[name="title"]');
    if (releaseTitle) releaseTitle.addEventListener("input", singleTitle);
    renumber(false);
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function enhanceAudio(input) {
    if (!(window.crypto && window.crypto.subtle && window.FileReader)) return;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var target = document.querySelector('[name="' + input.name.replace(/audio_file$/, "audio_sha256") + '"]');
      var row = input.closest("fieldset") || document;
      var status = row.querySelector(".hash-status");
      if (!file || !target) return;
      if (status) status.textContent = "Computing the SHA-256 of " + file.name + " in your browser…";
      file.arrayBuffer().then(function (data) {
        return window.crypto.subtle.digest("SHA-256", data);
      }).then(function (digest) {
        target.value = hex(digest);
        input.value = "";  // the hash is what we declare: the file itself is never uploaded
        if (status) status.textContent = "SHA-256 of " + file.name + " computed in your browser. The file is not uploaded.";
      }).catch(function () {
        if (status) status.textContent = "Your browser could not hash the file; it will be hashed on the server when you save (and not stored).";
      });
    });
  }

  function focusErrors() {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var declare = document.getElementById("declare-form");
    if (declare) enhanceDeclare(declare);
    document.querySelectorAll("form.release-form").forEach(function (form) {
      form.querySelectorAll("[data-formset]").forEach(function (box) { enhanceFormset(form, box); });
    });
    document.querySelectorAll("input[type=file][data-sha256-file]").forEach(enhanceAudio);
    document.querySelectorAll("input.token-value, #invite-link").forEach(function (el) {
      el.addEventListener("focus", function () { el.select(); });
    });
    focusErrors();
  });
})();
