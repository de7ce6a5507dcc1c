// Upload a report file with a progress bar; without JavaScript the form posts normally.
(function () {
  "use strict";
  function csrfToken(form) {
    var field = form.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }
  function setup(form) {
    var box = form.querySelector(".upload-progress");
    var bar = form.querySelector("progress");
    var percent = form.querySelector(".upload-percent");
    var error = form.querySelector(".upload-error");
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", csrfToken(form));
      box.hidden = false;
      error.hidden = true;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var value = Math.round((e.loaded / e.total) * 100);
          bar.value = value;
          percent.textContent = value + "%";
        }
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = {}; }
        if (xhr.status >= 200 && xhr.status < 300 && body.url) {
          window.location.assign(body.url);
          return;
        }
        box.hidden = true;
        error.textContent = body.detail || xhr.statusText;
        error.hidden = false;
      });
      xhr.addEventListener("error", function () {
        box.hidden = true;
        error.textContent = xhr.statusText || "network error";
        error.hidden = false;
      });
      xhr.send(new FormData(form));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-upload-progress]");
    for (var i = 0; i < forms.length; i += 1) { setup(forms[i]); }
  });
}());
