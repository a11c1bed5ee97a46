// FedLoom dashboard: re-fetch this page every few seconds and swap in its <main>; no libraries.
"use strict";

(function () {
  const body = document.body;
  const seconds = Number(body.dataset.refreshSeconds || "5");
  const pause = document.getElementById("pause");
  if (!pause) {
    return; // the sign-in page does not refresh
  }
  let paused = false;

  pause.addEventListener("click", function () {
    paused = !paused;
    pause.textContent = paused ? "resume" : "pause";
  });

  async function refresh() {
    if (paused || document.hidden) {
      return;
    }
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
      if (response.redirected || response.status === 401) {
        window.location.reload(); // the session ended: show the sign-in page
        return;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("live");
      if (fresh && !paused) {
        document.getElementById("live").replaceWith(fresh);
        body.dataset.refreshes = String(Number(body.dataset.refreshes) + 1);
        document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
      }
    } catch (error) {
      document.getElementById("updated").textContent = "aggregator unreachable, retrying";
    }
  }

  window.setInterval(refresh, seconds * 1000);
})();
