/* Co-sign in the browser (docs/protocol.md §14.2): WebCrypto Ed25519 over DSSE PAE(payloadType, payload).

   The label's private key is pasted as a JWK into a field that belongs to no form and has no
   name: it is never sent anywhere. The browser signs, fills in the signature field with what
   `provenance sign` would print ({"keyid", "sig"}), and forgets the key. Without JavaScript, or
   in a browser without Ed25519 in WebCrypto, the section stays hidden and the command works. */
(function () {
  "use strict";

  var section = document.getElementById("browser-sign");
  if (!section || !window.crypto || !window.crypto.subtle || !window.TextEncoder) {
    return;
  }

  function b64ToBytes(text) {
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out;
  }

  function bytesToB64(bytes) {
    var bin = "";
    bytes = new Uint8Array(bytes);
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin);
  }

  function b64url(bytes) {
    return bytesToB64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function concat(parts) {
    var length = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(length);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  // DSSEv1 SP LEN(type) SP type SP LEN(body) SP body (provenance/dsse.py: pae).
  function pae(payloadType, body) {
    var enc = new TextEncoder();
    var type = enc.encode(payloadType);
    return concat([
      enc.encode("DSSEv1 " + type.length + " "), type, enc.encode(" " + body.length + " "), body
    ]);
  }

  // RFC 7638 thumbprint of an Ed25519 public key: the protocol's key id (provenance/keys.py: thumbprint).
  function thumbprint(x) {
    var canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + x + '"}';
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)).then(b64url);
  }

  var button = document.getElementById("browser-sign-button");
  var jwkField = document.getElementById("browser-jwk");
  var status = document.getElementById("browser-sign-status");
  var target = document.getElementById("id_signature");
  var kids = (section.getAttribute("data-kids") || "").split(" ").filter(Boolean);

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "errorlist" : "helptext";
  }

  button.addEventListener("click", function () {
    var jwk;
    try {
      jwk = JSON.parse(jwkField.value);
    } catch (e) {
      say("Not a JWK: paste the whole JSON object of your label's private key.", true);
      return;
    }
    if (!jwk || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.d !== "string" || typeof jwk.x !== "string") {
      say('Not an Ed25519 private JWK: it needs "kty": "OKP", "crv": "Ed25519", "x" and "d".', true);
      return;
    }
    var key = { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d };
    var message = pae(button.getAttribute("data-payload-type"), b64ToBytes(button.getAttribute("data-payload")));
    var kid;
    thumbprint(jwk.x)
      .then(function (k) {
        kid = k;
        return crypto.subtle.importKey("jwk", key, { name: "Ed25519" }, false, ["sign"]);
      })
      .then(function (privateKey) {
        return crypto.subtle.sign({ name: "Ed25519" }, privateKey, message);
      })
      .then(function (sig) {
        jwkField.value = "";  // the page keeps no copy of the key
        target.value = JSON.stringify({ keyid: kid, sig: bytesToB64(sig) });
        if (kids.indexOf(kid) < 0) {
          say("Signed, but with key " + kid + ", which is not an active key of your label: the registry will refuse it.", true);
        } else {
          say("Signed with key " + kid + ". Check, then press “Sign and log with both signatures”.", false);
        }
        target.focus();
      })
      .catch(function (err) {
        say("This browser could not sign with that key (" + (err && err.message ? err.message : err) + "). Use the command instead.", true);
      });
  });

  // A key made on the Signing keys page (static/labels/keys.js) is kept non-extractable in IndexedDB:
  // it cannot be pasted, so the page offers to sign with it directly when it is an active key of the label.
  function heldKeys() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve([]); return; }
      var req = indexedDB.open("ai-disclosure-label-keys", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("keys", { keyPath: "kid" }); };
      req.onerror = function () { resolve([]); };
      req.onsuccess = function () {
        var all = req.result.transaction("keys", "readonly").objectStore("keys").getAll();
        all.onsuccess = function () { resolve(all.result || []); };
        all.onerror = function () { resolve([]); };
      };
    });
  }

  heldKeys().then(function (held) {
    var signer = held.filter(function (k) { return kids.indexOf(k.kid) >= 0; })[0];
    if (!signer) { return; }
    document.getElementById("held-sign").hidden = false;
    document.getElementById("held-sign-button").addEventListener("click", function () {
      var message = pae(button.getAttribute("data-payload-type"), b64ToBytes(button.getAttribute("data-payload")));
      crypto.subtle.sign({ name: "Ed25519" }, signer.privateKey, message).then(function (sig) {
        target.value = JSON.stringify({ keyid: signer.kid, sig: bytesToB64(sig) });
        say("Signed with key " + signer.kid + " (held in this browser). Check, then press “Sign and log with both signatures”.", false);
        target.focus();
      }, function (err) {
        say("This browser could not sign with its key (" + (err && err.message ? err.message : err) + ").", true);
      });
    });
  });

  // Shown only where WebCrypto has Ed25519 (Chromium 137+, Firefox 129+, Safari 17+).
  crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign"]).then(
    function () { section.hidden = false; },
    function () { /* no Ed25519 here: the command line remains */ }
  );
})();
