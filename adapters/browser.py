"""One Chromium per account, on its own profile, fully offline.

- undetected-chromedriver (default) or plain Selenium, both given Debian's binaries explicitly so
  nothing is ever downloaded; uc patches the driver file it is handed, so each account gets its own
  copy under ``.drivers/`` and the system binary is never touched;
- an OS file lock per profile, taken before launching (two browsers on one profile either fail or
  make uc hang for a minute);
- quitting sends CDP ``Browser.close`` first and waits for Chromium to exit by itself (uc's own
  quit loses fresh cookies and leaves lock files), then ends whatever is left of the tree;
- WebDriver errors are classified into the adapters' typed errors; a failure of the WebDriver
  client's own transport (chromedriver killed or gone: urllib3's MaxRetryError, ProtocolError,
  http.client errors, ConnectionError) is a crashed browser like any other.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import filelock
import urllib3.exceptions

from robot import proctree
from robot.chromium import (
    DEFAULT_CHROMEDRIVER,
    LOOPBACK_ONLY_ARG,
    browser_binary,
    chromium_args,
    headless_shell_launcher,
    is_loopback,
    merge_feature_switches,
)
from robot.config import BrowserSettings

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

from .base import ActionTimeout, AdapterError, BrokerUnreachable, BrowserCrashed, ProfileBusy

log = logging.getLogger("adapters.browser")

CLOSE_WAIT_S = 10.0  # how long quit() lets Chromium shut down by itself (saving the profile)

# The WebDriver client talks HTTP to chromedriver (or the Grid hub) through urllib3. When that
# process is gone, a command fails in the transport, not with a WebDriverException: these are
# the driver's death, whatever WebDriver command (or undetected-chromedriver wrapper) raised them.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


@cache
def chromium_major(chromium: str) -> int:
    out = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.search(r"(\d+)\.\d+\.\d+", out)
    if not match:
        raise AdapterError(f"cannot tell the version of {chromium}: {out.strip()!r}")
    return int(match.group(1))


def import_uc():
    """undetected_chromedriver, without the semaphore its import leaves behind.

    uc creates a ``multiprocessing.Lock`` when its module is imported (``Patcher.lock``, a class
    attribute that nothing we call uses). In a worker (started with spawn) that is a named POSIX
    semaphore registered with the supervisor's resource tracker: a worker SIGKILLed after the
    import could not unlink it, and the supervisor's exit printed "resource_tracker: There
    appear to be N leaked semaphore objects". Replacing it with a thread lock drops the last
    reference: multiprocessing's own finalizer unlinks and unregisters the semaphore at once.

    uc also imports ``distutils``; on Python 3.11 setuptools' import hook answers that with
    setuptools' own copy, which imports setuptools and pkg_resources whole: 11 MiB more in
    every worker (bench/worker_mem.py). The standard library's distutils (there until 3.12)
    serves uc's one use, LooseVersion, as well. From 3.12 on, setuptools is the only distutils."""
    if sys.version_info < (3, 12) and "distutils" not in sys.modules:
        _import_stdlib_distutils()
    import undetected_chromedriver as uc
    from undetected_chromedriver.patcher import Patcher

    if not isinstance(Patcher.lock, type(threading.Lock())):
        Patcher.lock = threading.Lock()
    return uc


def _import_stdlib_distutils() -> None:
    """Import the standard library's distutils past setuptools' import hook (the finder its
    ``distutils-precedence.pth`` put on sys.meta_path at start-up), which is put back after."""
    hooks = [f for f in sys.meta_path if type(f).__module__ == "_distutils_hack"]
    for hook in hooks:
        sys.meta_path.remove(hook)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "distutils is deprecated"
            import distutils.version  # noqa: F401 - the stdlib's, before uc asks for it
    finally:
        sys.meta_path[:0] = hooks


def release_free_heap() -> None:
    """Give the C heap's free memory back to the OS (glibc only; elsewhere nothing to do).

    uc reads its whole chromedriver copy (25 MB) to check and patch it, more than once per
    launch. glibc serves the first read from mmap and, once it is freed, raises its mmap
    threshold, so the next reads come from the heap, whose free pages the process then keeps:
    24 MiB of the worker's 62 (bench/worker_mem.py). malloc_trim(0) returns them."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return


def driver_copy(source: str, folder: Path) -> Path:
    """A project-owned copy of chromedriver for uc to patch (never the system binary)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(source).name
    src = Path(source)
    if (
        not target.exists()
        or target.stat().st_size == 0
        or src.stat().st_mtime > target.stat().st_mtime
    ):
        tmp = target.with_suffix(".tmp")
        shutil.copy2(src, tmp)
        tmp.replace(target)
        import_uc().Patcher(executable_path=str(target)).auto()
        os.utime(target)  # newer than the source: patched once, reused afterwards
    return target


class Browser:
    """The browser of one account. ``driver`` is the Selenium WebDriver once started."""

    def __init__(
        self,
        account_id: str,
        profile: Path,
        settings: BrowserSettings,
        base_url: str,
        headless: bool | None = None,
        drivers_dir: Path | None = None,
        page_load_timeout_s: float = 30.0,
        node: str | None = None,
    ):
        self.account_id = account_id
        self.node = node  # the Selenium Grid node holding the profile
        self.profile = Path(profile).resolve()
        self.settings = settings
        self.base_url = base_url
        self.headless = settings.headless if headless is None else headless
        self.drivers_dir = drivers_dir or Path(".drivers")
        self.page_load_timeout_s = page_load_timeout_s
        self.driver: WebDriver | None = None
        self._lock = filelock.FileLock(str(self.profile.parent / f".{self.profile.name}.lock"))

    # --------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        if self.driver is not None:
            return
        if self.settings.remote_url:
            # The profile lives on the Grid node, which also enforces one browser per profile
            # (max-sessions = 1 per account slot): nothing to create or lock on this machine.
            self.driver = driver = self._launch()
            driver.set_page_load_timeout(self.page_load_timeout_s)
            log.info("browser started on Grid node %s (session %s)", self.node, driver.session_id)
            return
        self.profile.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(self.profile, 0o700)
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            raise ProfileBusy(
                f"profile {self.profile} is in use by another robot process"
            ) from None
        try:
            self.driver = driver = self._launch()
            driver.set_page_load_timeout(self.page_load_timeout_s)
        except Exception:
            self._lock.release()
            raise
        release_free_heap()
        log.info("browser started (%s, pids %s)", self.settings.driver, self.process_ids())

    def _args(self) -> list[str]:
        args = chromium_args(self.settings.site_isolation)
        if is_loopback(self.base_url):
            args.append(LOOPBACK_ONLY_ARG)
        if self.headless:
            args.append("--window-size=1280,900")
        return merge_feature_switches(args + list(self.settings.extra_args))

    def _chromium(self) -> str:
        """The browser binary chromedriver (or uc) starts: the flavor's, and for the headless
        shell its launcher (robot/chromium.py says why it needs one)."""
        binary = browser_binary(self.settings.flavor, self.settings.chromium_path)
        if self.settings.flavor == "headless-shell":
            return str(headless_shell_launcher(binary, self.drivers_dir))
        return binary

    def _launch(self) -> WebDriver:
        chromium = self._chromium()
        chromedriver = self.settings.chromedriver_path or DEFAULT_CHROMEDRIVER
        os.environ.setdefault("SE_OFFLINE", "true")
        if self.settings.remote_url:
            return self._launch_remote(self.settings.remote_url)
        if self.settings.driver == "uc":
            uc = import_uc()
            opts = uc.ChromeOptions()
            for arg in self._args():
                opts.add_argument(arg)
            copy = driver_copy(chromedriver, self.drivers_dir / self.account_id)
            return uc.Chrome(
                options=opts,
                user_data_dir=str(self.profile),
                driver_executable_path=str(copy),
                browser_executable_path=chromium,
                headless=self.headless,
                version_main=chromium_major(
                    browser_binary(self.settings.flavor, self.settings.chromium_path)
                ),
                use_subprocess=True,
            )
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium
        for arg in self._args() + [f"--user-data-dir={self.profile}"]:
            opts.add_argument(arg)
        if self.headless:
            opts.add_argument("--headless=new")
        return webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)

    def _launch_remote(self, hub_url: str) -> WebDriver:
        """Selenium Grid: the node owns the profile path (its stereotype sets --user-data-dir and
        the Chromium binary); we only name the node and the account, which route the request to
        that account's slot. No user-data-dir from this side."""
        from selenium import webdriver

        opts = webdriver.ChromeOptions()  # browserName chrome
        for arg in self._args():
            opts.add_argument(arg)
        if self.headless:
            opts.add_argument("--headless=new")
        opts.set_capability("robot:node", self.node or "")
        opts.set_capability("robot:account", self.account_id)
        return webdriver.Remote(command_executor=hub_url, options=opts)

    def _wait_exit(self, timeout: float) -> bool:
        """Wait until no live (non-zombie) process runs on this profile; False on timeout."""
        import psutil

        deadline = time.monotonic() + timeout
        while True:
            live = []
            for proc in proctree.profile_processes(self.profile):
                try:
                    if proc.status() != psutil.STATUS_ZOMBIE:
                        live.append(proc)
                except psutil.NoSuchProcess:
                    continue
            if not live:
                return True
            if time.monotonic() >= deadline:
                log.warning(
                    "the browser did not exit %.0f s after Browser.close; ending it", timeout
                )
                return False
            time.sleep(0.05)

    def process_ids(self) -> list[int]:
        pids: list[int] = []
        if self.driver is not None:
            service = getattr(self.driver, "service", None)
            proc = getattr(service, "process", None) if service else None
            if proc is not None and proc.pid:
                pids.append(proc.pid)
            browser_pid = getattr(self.driver, "browser_pid", None)
            if browser_pid:
                pids.append(browser_pid)
        return pids

    def quit(self) -> None:
        """Close the browser so its profile is saved, then make sure its whole tree is gone."""
        driver, self.driver = self.driver, None
        if driver is None:
            return
        pids = []
        try:
            service = getattr(driver, "service", None)
            if service is not None and getattr(service, "process", None) is not None:
                pids.append(service.process.pid)
            browser_pid = getattr(driver, "browser_pid", None)  # undetected-chromedriver's
            if browser_pid:
                pids.append(browser_pid)
        except Exception:  # noqa: BLE001 - a driver too broken to say: the profile kill finds them
            pass
        closing = True
        try:
            driver.execute_cdp_cmd("Browser.close", {})
        except TRANSPORT_ERRORS:
            # chromedriver is gone (killed): nobody could tell Chromium to close, so waiting for
            # it to exit by itself only delays the relaunch; it is ended below
            closing = False
        except Exception:  # noqa: BLE001 - crashed; or closing already ("target frame detached")
            pass
        if closing and not self.settings.remote_url:
            # Browser.close only starts the shutdown: the cookie store is written while Chromium
            # winds down, and the quit/kills below would cut that short (a fresh login was then
            # lost from the profile, mostly with uc, which SIGTERMs the browser at once). A
            # crashed browser has no process left, so this returns at once.
            self._wait_exit(CLOSE_WAIT_S)
        with contextlib.suppress(Exception):  # crashed or gone: the kills below end what is left
            driver.quit()
        proctree.kill_pids(pids)
        if not self.settings.remote_url:
            proctree.kill_profile_processes(self.profile)
        if self._lock.is_locked:
            self._lock.release()
        log.info("browser closed")


# --------------------------------------------------------------------------- classification
_CRASH_MARKERS = (
    "invalid session id",
    "chrome not reachable",
    "session deleted",
    "disconnected",
    "no such window",
    "target window already closed",
    "connection refused",
    "max retries exceeded",
    "failed to establish",
    "session not created",
    "tab crashed",
    "page crash",
    "remote end closed",
    # Selenium Grid: the node holding the session died, or none can take it now
    "unable to execute request for an existing session",
    "connection error",
    "unable to find session",
    "could not start a new session",
)


_NET_ERROR_RE = re.compile(r"net::(ERR_[A-Z_]+)")


def driver_errors() -> tuple[type[BaseException], ...]:
    """Everything a WebDriver command can raise besides our own errors: what an adapter's guard
    catches and hands to classify()."""
    from selenium.common.exceptions import TimeoutException, WebDriverException

    return (TimeoutException, WebDriverException, *TRANSPORT_ERRORS)


def classify(exc: BaseException, url: str | None = None) -> AdapterError:
    """Map a Selenium/urllib3 exception to the error the engine acts on (``url``: the page being
    loaded, named when the broker's site did not answer)."""
    from selenium.common.exceptions import (
        InvalidSessionIdException,
        NoSuchWindowException,
        SessionNotCreatedException,
        TimeoutException,
        WebDriverException,
    )

    if isinstance(exc, AdapterError):
        return exc
    net = _NET_ERROR_RE.search(str(exc))
    if net:
        # Chromium's own network error loading the page: the broker, not the browser
        return BrokerUnreachable(url or "the broker's page", f"net::{net.group(1)}")
    text = str(exc).lower()
    if isinstance(
        exc,
        (
            InvalidSessionIdException,
            NoSuchWindowException,
            SessionNotCreatedException,
            *TRANSPORT_ERRORS,
        ),
    ) or any(m in text for m in _CRASH_MARKERS):
        return BrowserCrashed(
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
    if isinstance(exc, TimeoutException):
        return ActionTimeout(str(exc).splitlines()[0] if str(exc) else "timed out")
    if isinstance(exc, WebDriverException):
        return AdapterError(f"{type(exc).__name__}: {exc.msg or ''}".strip())
    return AdapterError(f"{type(exc).__name__}: {exc}")
