// The demo storefront's only script (no framework, no CDN).
// 1. The card form: the gateway's token script (loaded by the page) turns the card fields into a one-time token;
//    only the token is posted. The card fields have no name attribute and are emptied before posting.
// 2. A form marked data-autosubmit (3-D Secure and similar `action_required` answers) is posted at once.
(function () {
  "use strict";
  var MESSAGES = {
    KI1: "カード番号などの入力内容をご確認ください。", K20: "カード番号をご確認ください。",
    K21: "有効期限をご確認ください。", K22: "セキュリティコードをご確認ください。",
    C03: "カード会社の窓口に接続できませんでした。時間をおいてお試しください。"
  };
  var form = document.getElementById("pay-form");
  function value(id) { var el = document.getElementById(id); return el ? el.value.replace(/\s+/g, "") : ""; }
  function clearCard() {
    ["card-number", "card-exp-month", "card-exp-year", "card-cvc"].forEach(function (id) {
      var el = document.getElementById(id); if (el) { el.value = ""; }
    });
  }
  function showError(text) {
    var box = document.getElementById("token-error");
    if (box) { box.textContent = text; box.classList.remove("hidden"); }
    var button = form && form.querySelector("button[type=submit]");
    if (button) { button.disabled = false; }
  }
  window.spsvTokenReady = function (token, card) {
    if (!token) {
      showError(MESSAGES[card && card.ResponseCd] || "カード情報を確認できませんでした（" + (card && card.ResponseCd) + "）。");
      return;
    }
    document.getElementById("token").value = token;
    clearCard();
    form.submit();
  };
  if (form) {
    form.addEventListener("submit", function (event) {
      var choice = form.querySelector("input[name=card_choice]:checked") || form.querySelector("input[name=card_choice]");
      if (choice && choice.value === "registered") { return; }  // the registered card: no token needed
      if (document.getElementById("token").value) { return; }
      event.preventDefault();
      if (!window.SpsvApi) { showError("カード会社の窓口を読み込めませんでした。ページを再読み込みしてください。"); return; }
      form.querySelector("button[type=submit]").disabled = true;
      window.SpsvApi.spsvCreateToken(value("card-number"), value("card-exp-year"), value("card-exp-month"),
                                     value("card-cvc"), "", "", "", "", "");
    });
  }
  var auto = document.querySelector("form[data-autosubmit]");
  if (auto) { auto.submit(); }
})();
