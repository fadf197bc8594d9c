/* Progressive enhancement for the label forms. Everything works without it:
   the shortcut buttons are submit buttons, and audio files can be hashed on the server. */
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
    document.querySelectorAll("input[type=file][data-sha256-file]").forEach(enhanceAudio);
    document.querySelectorAll("input.token-value, #invite-link").forEach(function (el) {
      el.addEventListener("focus", function () { el.select(); });
    });
    focusErrors();
  });
})();
