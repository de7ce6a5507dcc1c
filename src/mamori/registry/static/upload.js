// Upload progress for the register's import form: htmx reports the upload's progress
// as "htmx:xhr:progress" events; the bar shows it. Without JavaScript the form posts
// normally and the result page follows.
(function () {
  "use strict";
  function panel(form) { return form.querySelector(".upload-progress"); }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest(".upload-form");
    if (!form) { return; }
    var box = panel(form);
    box.hidden = false;
    box.querySelector("progress").value = 0;
    box.querySelector(".upload-percent").textContent = "0%";
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest(".upload-form");
    if (!form || !event.detail.lengthComputable) { return; }
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    var box = panel(form);
    box.querySelector("progress").value = percent;
    box.querySelector(".upload-percent").textContent = percent + "%";
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest(".upload-form");
    if (!form) { return; }
    var box = panel(form);
    box.querySelector("progress").value = 100;
    box.querySelector(".upload-percent").textContent = "100%";
  });
})();
