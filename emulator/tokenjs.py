"""The token script served at ``/euser/stn/CdGetJavaScript.do`` (reference §5.1, §8.7).

It defines ``SpsvApi.spsvCreateToken(cardNo, expYY, expMM, secCd, birthMM, birthDD, telNo, kanaSei,
kanaMei)``, posts the card to the emulator's token endpoint and calls the page function named by the
``callBackFunc`` attribute of ``<script class="spsvToken">`` with ``(token, card)``. On failure the token
is ``""`` and ``card.ResponseCd`` carries the code (``KI1``, ``K20``…) — the emulator's answer to §9.7.
"""

from __future__ import annotations

import json

TOKEN_PATH = "/euser/stn/CdCreateToken.do"  # noqa: S105 (a URL path, not a password)

_TEMPLATE = """(function () {
  "use strict";
  var TOKEN_URL = %(url)s;
  var AUTH_CODE = %(code)s;
  function callback() {
    var tag = document.querySelector("script.spsvToken");
    var name = tag ? tag.getAttribute("callBackFunc") : null;
    if (!name || typeof window[name] !== "function") {
      throw new Error("SpsvApi: no callBackFunc on script.spsvToken");
    }
    return window[name];
  }
  function mask(pan) {
    pan = String(pan || "");
    return pan.length > 8 ? pan.slice(0, 4) + pan.slice(4, -4).replace(/./g, "*") + pan.slice(-4) : "";
  }
  function spsvCreateToken(cardNo, expYY, expMM, secCd, birthMM, birthDD, telNo, kanaSei, kanaMei) {
    var done = callback();
    var exp = ("0" + String(expYY || "")).slice(-2) + ("0" + String(expMM || "")).slice(-2);
    var body = new URLSearchParams({k_TokenNinsyoCode: AUTH_CODE, CardNo: String(cardNo || ""),
                                    CardExp: exp, SecCd: String(secCd || "")});
    var card = {cardNo: mask(cardNo), expYY: exp.slice(0, 2), expMM: exp.slice(2)};
    fetch(TOKEN_URL, {method: "POST", body: body}).then(function (response) {
      return response.text();
    }).then(function (text) {
      var reply = new URLSearchParams(text);
      card.ResponseCd = reply.get("ResponseCd") || "OK";
      done(reply.get("token") || "", card);
    }, function () {
      card.ResponseCd = "C03";
      done("", card);
    });
  }
  window.SpsvApi = {spsvCreateToken: spsvCreateToken};
})();
"""


def token_script(base_url: str, auth_code: str) -> str:
    """The script text for a page whose script tag named ``auth_code`` (values JSON-quoted for safety)."""
    return _TEMPLATE % {"url": json.dumps(base_url + TOKEN_PATH), "code": json.dumps(auth_code)}
