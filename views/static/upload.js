// Upload progress for pitch decks. Without JavaScript the form posts as
// usual; with it, the same request is sent by XHR so a progress bar shows
// on slow connections.
(function () {
  "use strict";
  document.querySelectorAll("form.upload").forEach(function (form) {
    var bar = form.querySelector(".upload-progress");
    form.addEventListener("submit", function (ev) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      ev.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "text/html");
      if (bar) { bar.hidden = false; bar.value = 0; }
      xhr.upload.addEventListener("progress", function (e) {
        if (bar && e.lengthComputable) { bar.value = Math.round(e.loaded * 100 / e.total); }
      });
      xhr.addEventListener("load", function () {
        // The server answers with a page (redirect followed, or the form
        // with an error): show it as a normal navigation would.
        document.open(); document.write(xhr.responseText); document.close();
        // Follow a redirect in the address bar; a refused upload stays on
        // the page it came from (the action URL carries the CSRF token and
        // has no GET route).
        if (xhr.responseURL && xhr.responseURL !== form.action) { history.replaceState(null, "", xhr.responseURL); }
      });
      xhr.addEventListener("error", function () { form.submit(); });
      xhr.send(new FormData(form));
    });
  });
})();
