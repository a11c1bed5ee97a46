"""The /ui dashboard in headless Chromium (Debian `chromium` + `chromium-driver`) against the live federation:
sign-in, auto-refresh, and the curve, clients table, image grid and timeline showing the run's own values.
Saves docs/dashboard.png, which the README shows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_federation import ADMIN, CLIENTS, FEDERATION, ROUNDS, LiveFederation
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from fedloom.ops.formatting import percent
from system_tools import require_tool

SCREENSHOT_ENV = "FEDLOOM_DASHBOARD_SCREENSHOT"
"""Where to save the finished page; `make dashboard-picture` points it at docs/dashboard.png."""


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    binary, driver = require_tool("chromium", "chromium"), require_tool("chromedriver", "chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1360,1300",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(60)
    try:
        yield chrome
    finally:
        chrome.quit()


def sign_in(browser: WebDriver, url: str, token: str) -> None:
    browser.get(f"{url}/ui")
    assert browser.current_url.endswith("/ui/login")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "sign-in").click()


def texts(browser: WebDriver, css: str) -> list[str]:
    return [element.text for element in browser.find_elements(By.CSS_SELECTOR, css)]


def attributes(browser: WebDriver, css: str, *names: str) -> list[tuple[str | None, ...]]:
    return [tuple(e.get_attribute(n) for n in names) for e in browser.find_elements(By.CSS_SELECTOR, css)]


def test_clients_cannot_open_the_dashboard(live: LiveFederation, browser: WebDriver) -> None:
    client_token = live.client_token(0)
    sign_in(browser, live.url, client_token)
    assert browser.find_element(By.ID, "login-error").text == "That is not the admin token."
    assert browser.current_url.endswith("/ui/login")
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {client_token}"}) as client:
        for path in ("/ui", f"/ui/federations/{live.federation_id}"):
            response = client.get(path)
            assert (response.status_code, response.headers["location"]) == (303, "/ui/login"), path
        assert client.post("/ui/login", content=b"token=x").status_code == 415
        assert client.post("/ui/login", data={"token": "x" * 5000}).status_code == 413


def test_the_dashboard_shows_the_run(live: LiveFederation, browser: WebDriver, tmp_path: Path) -> None:
    sign_in(browser, live.url, ADMIN)
    row = WebDriverWait(browser, 30).until(
        lambda b: b.find_element(By.CSS_SELECTOR, f'tr[data-federation="{live.federation_id}"]')
    )
    assert FEDERATION["algorithm"] in row.text
    row.find_element(By.TAG_NAME, "a").click()
    wait = WebDriverWait(browser, 300, poll_frequency=0.3, ignored_exceptions=[StaleElementReferenceException])
    phases = ("starting", "open", "collecting", "aggregating", "generating", "published", "evaluated")
    now = {f"round {r}: {p}" for r in range(ROUNDS) for p in phases} | {"finished"}
    assert browser.find_element(By.ID, "now").text in now  # the round in progress, or the end
    wait.until(lambda b: b.find_element(By.ID, "federation-status").text == "finished")  # by auto-refresh
    wait.until(lambda b: int(b.find_element(By.TAG_NAME, "body").get_attribute("data-refreshes") or 0) >= 1)
    browser.find_element(By.ID, "pause").click()  # hold the page still while it is read
    state = live.finished()
    assert browser.find_element(By.ID, "progress").text == f"{ROUNDS} / {ROUNDS}"
    check_curve(browser, live, state)
    check_clients(browser, live)
    check_images(browser)
    phases = attributes(browser, "#timeline-chart rect.phase", "data-round", "data-phase")
    assert {(str(r), p) for r in range(ROUNDS) for p in ("collecting", "aggregating", "generating")} <= set(phases)
    browser.find_element(By.ID, "pause").click()  # resume
    screenshot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "dashboard.png")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(screenshot))


def check_curve(browser: WebDriver, live: LiveFederation, state: dict) -> None:  # type: ignore[type-arg]
    drawn = attributes(browser, "#accuracy-chart circle.accuracy-point", "data-round", "data-accuracy")
    assert drawn == [(str(r["round"]), f"{r['accuracy']:.4f}") for r in state["rounds"]]
    spread = attributes(browser, "#accuracy-chart circle.accuracy-point", "data-spread")
    assert spread == [(f"{r['accuracy_std']:.4f}",) for r in state["rounds"]]
    reports = live.admin.get(f"/v1/federations/{live.federation_id}/client-metrics").json()
    clients = attributes(browser, "#accuracy-chart circle.client-point", "data-round", "data-client", "data-accuracy")
    assert clients == [(str(m["round"]), str(m["client_id"]), f"{m['accuracy']:.4f}") for m in reports]
    assert len(clients) == ROUNDS * CLIENTS
    assert texts(browser, "#rounds-table td.accuracy") == [f"{100 * r['accuracy']:.2f}%" for r in state["rounds"]]


def check_clients(browser: WebDriver, live: LiveFederation) -> None:
    enrolled = live.admin.get("/v1/clients").json()
    assert len(enrolled) == CLIENTS
    for client in enrolled:
        row = browser.find_element(By.CSS_SELECTOR, f'#clients-table tr[data-client="{client["client_id"]}"]')
        assert row.find_element(By.CLASS_NAME, "arch").text == client["architecture"] != ""
        assert row.find_element(By.CLASS_NAME, "rounds-joined").text == str(client["rounds_joined"])
        assert row.find_element(By.CLASS_NAME, "last-accuracy").text == percent(client["last_accuracy"])
        assert "active" in row.text and f"edge-{client['client_id']}" in row.text


def check_images(browser: WebDriver) -> None:
    grid = browser.find_element(By.ID, "image-grid")
    assert grid.get_attribute("data-round") == str(ROUNDS - 1)
    figures = grid.find_elements(By.CSS_SELECTOR, "figure.generated")
    assert [f.get_attribute("data-class") for f in figures] == [str(c) for c in range(FEDERATION["num_classes"])]
    for figure in figures:
        image = figure.find_element(By.TAG_NAME, "img")
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 96
