// The import's progress page: polls the job's progress and moves the bar, instead of the
// whole page refreshing itself as it does without script; reloads the page when the job is over.
(function () {
  "use strict";
  var bar = document.getElementById("progress");
  if (!bar || !bar.dataset.poll) {
    return;
  }
  var checked = document.getElementById("checked");
  function poll() {
    fetch(bar.dataset.poll, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (progress) {
        bar.max = progress.rows;
        bar.value = progress.checked;
        checked.textContent = String(progress.checked);
        if (progress.running) {
          window.setTimeout(poll, 250);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        // The session ended or the server is away: the page itself says what is the matter.
        window.setTimeout(function () {
          window.location.reload();
        }, 2000);
      });
  }
  window.setTimeout(poll, 250);
})();
