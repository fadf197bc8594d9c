/* A label key made in the browser (docs/labels.md §3): WebCrypto Ed25519, private half non-extractable in IndexedDB.

   "Make a key in this browser" generates a key pair whose private key cannot be exported (not even
   by this script), stores the CryptoKey in IndexedDB (structured clone keeps it non-extractable),
   and posts only the public key. A later key's registration event is signed here with a key of the
   label this browser holds: DSSE PAE(payloadType, payload), as `provenance sign` would. Without
   JavaScript or Ed25519 in WebCrypto, the form stays hidden and the command line remains. */
(function () {
  "use strict";

  if (!window.crypto || !window.crypto.subtle || !window.indexedDB || !window.TextEncoder) {
    return;
  }
  var DB = "ai-disclosure-label-keys";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("keys", { keyPath: "kid" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function store(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("keys", mode);
        var req = work(tx.objectStore("keys"));
        tx.oncomplete = function () { resolve(req && req.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function allKeys() {
    return store("readonly", function (s) { return s.getAll(); });
  }

  function bytesToB64(bytes) {
    var bin = "";
    bytes = new Uint8Array(bytes);
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin);
  }

  function b64ToBytes(text) {
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  function b64url(bytes) {
    return bytesToB64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // RFC 7638 thumbprint of an Ed25519 public key: the protocol's key id (provenance/keys.py: thumbprint).
  function thumbprint(x) {
    var canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + x + '"}';
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)).then(b64url);
  }

  // DSSEv1 SP LEN(type) SP type SP LEN(body) SP body (provenance/dsse.py: pae).
  function pae(payloadType, body) {
    var enc = new TextEncoder();
    var type = enc.encode(payloadType);
    var head = enc.encode("DSSEv1 " + type.length + " ");
    var mid = enc.encode(" " + body.length + " ");
    var out = new Uint8Array(head.length + type.length + mid.length + body.length);
    out.set(head, 0); out.set(type, head.length); out.set(mid, head.length + type.length);
    out.set(body, head.length + type.length + mid.length);
    return out;
  }

  function say(id, text, bad) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text; el.className = bad ? "errorlist" : "helptext"; }
  }

  // Mark the keys this browser holds.
  allKeys().then(function (held) {
    var kids = held.map(function (k) { return k.kid; });
    document.querySelectorAll("#label-keys tr[data-kid]").forEach(function (row) {
      if (kids.indexOf(row.getAttribute("data-kid")) >= 0) {
        row.querySelector(".in-browser").textContent = "Yes";
      }
    });
  });

  var add = document.getElementById("key-add");
  if (add) {
    crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]).then(
      function () { add.hidden = false; },
      function () { /* no Ed25519 here: the command line remains */ }
    );
    document.getElementById("key-generate").addEventListener("click", function () {
      var pair, kid, x;
      crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])
        .then(function (p) { pair = p; return crypto.subtle.exportKey("raw", p.publicKey); })
        .then(function (raw) { x = b64url(raw); return thumbprint(x); })
        .then(function (k) {
          kid = k;
          return store("readwrite", function (s) {
            return s.put({ kid: kid, x: x, label: add.getAttribute("data-label") || "", privateKey: pair.privateKey });
          });
        })
        .then(function () {
          say("key-add-status", "Key " + kid + " made and kept in this browser; sending its public half.", false);
          add.querySelector("input[name=key]").value = x;
          add.submit();
        })
        .catch(function (err) {
          say("key-add-status", "This browser could not make or keep a key (" + (err && err.message ? err.message : err) + ").", true);
        });
    });
  }

  // A key event (a later key's registration) or a policy event: signed with an active key of the label held here.
  [["key-register", "key-sign-status"], ["policy-sign", "policy-sign-status"]].forEach(function (ids) {
    var form = document.getElementById(ids[0]);
    if (!form) { return; }
    var active = [];
    document.querySelectorAll("#label-keys tr[data-status=active]").forEach(function (row) {
      active.push(row.getAttribute("data-kid"));
    });
    // Never the key the event is about: a new key does not vouch for itself, and a revoked one is signed away
    // by another key of the label (for a revocation the server would also take the key's own: docs/labels.md §3).
    var subject = form.getAttribute("data-new-kid") || form.getAttribute("data-revoke-kid");
    var message = pae(form.getAttribute("data-payload-type"), b64ToBytes(form.getAttribute("data-payload")));
    allKeys().then(function (held) {
      var signer = held.filter(function (k) { return k.kid !== subject && active.indexOf(k.kid) >= 0; })[0];
      if (!signer) {
        say(ids[1], "This browser holds no other active key of your label: sign the event elsewhere and paste the signature.", true);
        return null;
      }
      return crypto.subtle.sign({ name: "Ed25519" }, signer.privateKey, message).then(function (sig) {
        form.querySelector("textarea[name=signature]").value = JSON.stringify({ keyid: signer.kid, sig: bytesToB64(sig) });
        say(ids[1], "Signed with key " + signer.kid + ", which this browser holds. Check, then press the button.", false);
      });
    }).catch(function (err) {
      say(ids[1], "This browser could not sign (" + (err && err.message ? err.message : err) + ").", true);
    });
  });
})();
