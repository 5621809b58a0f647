"""Drive ``metaframe demo`` as a person does: start the server, open the page in headless Chromium (Debian's
``chromium`` and ``chromium-driver``, through Selenium), upload, press Retarget, wait for the answer.

Shared by the browser test and ``tools/demo_screenshot.py`` (the picture in ``docs/howto/demo.md``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# headless, and no call of its own to Google's services: this machine's network is closed (and so is the demo's)
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")  # fmt: skip
ANSWERED = ("Done:", "Could not retarget:")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def demo_server(args: list[str], env: dict[str, str], log: Path, start_seconds: float = 600,
                stop: signal.Signals = signal.SIGINT) -> Iterator[str]:  # fmt: skip
    """``metaframe demo ARGS`` in a process of its own, until the block ends (then ``stop``: Ctrl-C's signal);
    yields its address."""
    command = [sys.executable, "-m", "metaframe", "demo", *args]
    with log.open("w") as written:
        server = subprocess.Popen(command, stdout=written, stderr=subprocess.STDOUT, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + start_seconds
        while not (found := re.search(r"open (http://\S+)", log.read_text())):
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"metaframe demo did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield found.group(1)
    finally:
        server.send_signal(stop)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise


@contextmanager
def chromium(width: int = 1400, height: int = 1900) -> Iterator[WebDriver]:
    """Headless Chromium that records every request it makes (``requested_hosts``)."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.is_file():
            raise AssertionError(f"{program} is missing: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def retarget_on_page(browser: WebDriver, url: str, target: list[Path], source: Path | None = None,
                     dance: str | None = None, wait_seconds: float = 600) -> str:  # fmt: skip
    """Open the page, upload ``target`` (and ``source``), choose ``dance``, press Retarget; the status line."""
    submit(browser, url, target, source, dance)
    return wait_for(browser, lambda: answer(browser), wait_seconds)


def submit(
    browser: WebDriver, url: str, target: list[Path], source: Path | None = None, dance: str | None = None
) -> None:
    """Open the page, upload ``target`` (and ``source``), choose ``dance`` and press Retarget."""
    browser.get(url)
    inputs = wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "input[type=file]"), 60)
    inputs[0].send_keys("\n".join(str(path) for path in target))
    if source is not None:
        inputs[1].send_keys(str(source))
    if dance is not None:
        choose(browser, dance)
    time.sleep(1)  # the uploads are sent as soon as chosen
    browser.find_element(By.ID, "go").click()


def choose(browser: WebDriver, dance: str) -> None:
    """Pick ``dance`` in the built-in dances' list."""
    field = browser.find_element(By.CSS_SELECTOR, "#dance input")
    field.click()
    wait_for(browser, lambda: browser.find_elements(By.XPATH, f"//ul//li[contains(., '{dance}')]"), 10)[0].click()


def answer(browser: WebDriver) -> str | None:
    status = browser.find_element(By.ID, "status").text
    return status if status.startswith(ANSWERED) else None


def wait_for(browser: WebDriver, found, seconds: float):
    deadline = time.monotonic() + seconds
    while not (value := found()):
        if time.monotonic() > deadline:
            browser.save_screenshot("/tmp/metaframe-demo-timeout.png")
            raise AssertionError(
                f"the page did not answer in {seconds:.0f} s (screenshot: /tmp/metaframe-demo-timeout.png)"
            )
        time.sleep(0.3)
    return value


def result_url(browser: WebDriver) -> str:
    """Where the page plays the result video from."""
    return browser.find_element(By.CSS_SELECTOR, "#result video").get_attribute("src")


def requested_hosts(browser: WebDriver) -> set[str]:
    """The hosts of every request the page made since it opened."""
    hosts = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            address = message["params"]["request"]["url"]
            parts = urlsplit(address)
            hosts.add(parts.netloc or parts.scheme)  # data: and blob: addresses are the page's own
    return hosts
