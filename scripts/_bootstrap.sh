# Shared by scripts/test and scripts/demo: install what is missing, idempotently.
# Debian's chromium and chromium-driver (never a downloaded browser), then a .venv with the
# package and its test and lint extras.
VENV="${ROBOT_VENV:-$PWD/.venv}"
export SE_OFFLINE=true            # Selenium Manager must never reach for the network

need_apt=()
bootstrap() {
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  [ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
  if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing ${need_apt[*]} from Debian" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    else
      echo "missing ${need_apt[*]}: install Debian's chromium and chromium-driver (as root: apt-get install chromium chromium-driver)" >&2
      exit 1
    fi
  fi
  # Optional: settings.browser.flavor headless-shell. Installed too where we may (root, apt), so
  # that CI runs its tests rather than skipping them; where it cannot be, they skip saying why.
  if [ ! -x /usr/lib/chromium/chromium-headless-shell ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium-headless-shell from Debian (optional)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null \
      || echo "chromium-headless-shell could not be installed: its tests will skip" >&2
  fi
  local py="${PYTHON:-python3}"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$py" -m venv "$VENV"
  fi
  # Reinstall only when the package metadata changed since the last install.
  local stamp="$VENV/.robot-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "installing robot and its test and lint extras into $VENV" >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test,lint]'
    touch "$stamp"
  fi
}
