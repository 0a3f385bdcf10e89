# shellcheck shell=bash
# Sourced by .ci/run: makes sure headless Chromium and CJK fonts are installed for the browser
# tests (internal/browsertest), installing Debian's chromium and fonts-noto-cjk packages when
# missing. Safe to source under `set -euo pipefail`; it returns non-zero if the install fails.
#
# It also sets YANZHEN_REQUIRE_BROWSER=1, so that a browser test fails instead of skipping when
# Chromium still cannot be found.

yz_install_browser() {
  local need=() sudo=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # Without CJK fonts, Chinese text renders as boxes in screenshots.
  dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'ok installed' || need+=(fonts-noto-cjk)
  [ ${#need[@]} -eq 0 ] && return 0

  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "browser.sh: need root or sudo to install ${need[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "== installing ${need[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || return 1
}

yz_install_browser
unset -f yz_install_browser
export YANZHEN_REQUIRE_BROWSER=1
