# shellcheck shell=bash
# Virtual environment with a pinned Home Assistant for scripts/develop (and anything that starts a
# real `hass`: end-to-end tests, screenshots). Source it, then:
#
#   venv=$(ha_ensure_venv auto)     # auto | latest | oldest; prints the venv folder, progress on stderr
#   "$venv/bin/python" -m homeassistant --config DIR --skip-pip
#
# Flavours (one venv each, under .venvs/):
#   latest  Home Assistant 2026.10.4 on Python 3.14 (>= 3.14.2)   requirements_develop_latest.txt
#   oldest  Home Assistant 2025.4.4 on Python 3.13         requirements_develop.txt
#   auto    latest if a Python >= 3.14.2 can be had, else oldest
# Interpreter: $PYTHON if set; else python3.14 / python3.13 on PATH or under ~/.pyenv/versions
# (each tried: a pyenv shim that does not run is skipped); for latest, ../shared/tools/python3.14
# provides one. A venv is reused while its requirements (the pinned file plus the integration's
# manifest requirements) and interpreter are unchanged; otherwise it is brought up to date.

HA_ENV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

ha_log() { printf '\033[1m[develop]\033[0m %s\n' "$*" >&2; }

# ha_usable PY MIN_MINOR MIN_PATCH MAX_MINOR: true when PY runs and is 3.MIN_MINOR.MIN_PATCH .. 3.MAX_MINOR.x
ha_usable() {
  "$1" -c "import sys; v=sys.version_info; sys.exit(not ((3, $2, $3) <= v[:3] and v[:2] <= (3, $4)))" \
    >/dev/null 2>&1
}

# ha_python_flavour PY: prints latest or oldest for a usable interpreter, fails otherwise
ha_python_flavour() {
  if ha_usable "$1" 14 2 14; then echo latest
  elif ha_usable "$1" 13 0 13; then echo oldest
  else return 1
  fi
}

# ha_find_python latest|oldest: prints the path of a suitable interpreter
ha_find_python() {
  local want=$1 minor patch maxminor cand
  if [ "$want" = latest ]; then minor=14 patch=2 maxminor=14; else minor=13 patch=0 maxminor=13; fi
  local -a cands=("python3.$minor" python3)
  local -a pyenv=()
  for cand in "$HOME"/.pyenv/versions/3."$minor".*/bin/python3."$minor"; do
    [ -x "$cand" ] && pyenv+=("$cand")
  done
  if [ "${#pyenv[@]}" -gt 0 ]; then
    mapfile -t pyenv < <(printf '%s\n' "${pyenv[@]}" | sort -rV)
    cands+=("${pyenv[@]}")
  fi
  for cand in "${cands[@]}"; do
    if command -v "$cand" >/dev/null 2>&1 && ha_usable "$cand" "$minor" "$patch" "$maxminor"; then
      command -v "$cand"; return 0
    fi
  done
  if [ "$want" = latest ] && [ -x "$HA_ENV_ROOT/../shared/tools/python3.14" ]; then
    local provided
    if provided=$("$HA_ENV_ROOT/../shared/tools/python3.14") && ha_usable "$provided" 14 2 14; then
      echo "$provided"; return 0
    fi
    ha_log "../shared/tools/python3.14 could not provide a Python >= 3.14.2"
  fi
  return 1
}

ha_requirements_file() { # ha_requirements_file latest|oldest
  if [ "$1" = latest ]; then echo "$HA_ENV_ROOT/requirements_develop_latest.txt"
  else echo "$HA_ENV_ROOT/requirements_develop.txt"
  fi
}

# ha_manifest_requirements PY: the integration manifest's requirements, one per line
ha_manifest_requirements() {
  "$1" -c 'import json, sys
try:
    print("\n".join(json.load(open(sys.argv[1])).get("requirements", [])))
except FileNotFoundError:
    pass' "$HA_ENV_ROOT/custom_components/sinotrack/manifest.json"
}

# ha_ensure_venv auto|latest|oldest: prints the venv folder, creating or updating it when needed
ha_ensure_venv() {
  local flavour=$1 py="" venv req stamp extra
  if [ -n "${PYTHON:-}" ]; then
    local got
    got=$(ha_python_flavour "$PYTHON") || {
      ha_log "PYTHON=$PYTHON does not run, or is neither Python >= 3.14.2 nor 3.13"; return 1; }
    if [ "$flavour" != auto ] && [ "$flavour" != "$got" ]; then
      ha_log "PYTHON=$PYTHON does not suit the $flavour Home Assistant"; return 1
    fi
    flavour=$got py=$PYTHON
  elif [ "$flavour" = auto ]; then
    # a working latest venv is reused without looking for interpreters again
    if "$HA_ENV_ROOT/.venvs/develop-latest/bin/python" -c '' >/dev/null 2>&1; then
      flavour=latest
    elif py=$(ha_find_python latest); then
      flavour=latest
    else
      ha_log "no Python >= 3.14.2 available: falling back to Home Assistant 2025.4 on Python 3.13"
      flavour=oldest
    fi
  fi
  venv="$HA_ENV_ROOT/.venvs/develop-$flavour"
  req=$(ha_requirements_file "$flavour")
  if "$venv/bin/python" -c '' >/dev/null 2>&1; then
    extra=$(ha_manifest_requirements "$venv/bin/python") || return 1
    stamp=$( { cat "$req"; echo "$extra"; } | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$stamp" ]; then
      echo "$venv"; return 0
    fi
  fi
  if [ -z "$py" ]; then
    py=$(ha_find_python "$flavour") || {
      if [ "$flavour" = latest ]; then ha_log "no Python >= 3.14.2 found (set PYTHON)"
      else ha_log "no Python 3.13 found (set PYTHON, or install one: pyenv install 3.13)"
      fi
      return 1
    }
  fi
  if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    ha_log "creating $venv with $py ($("$py" -V 2>&1))"
    rm -rf "$venv"
    "$py" -m venv "$venv" >&2 || { ha_log "could not create $venv"; return 1; }
  fi
  extra=$(ha_manifest_requirements "$venv/bin/python") || return 1
  stamp=$( { cat "$req"; echo "$extra"; } | sha256sum | cut -d' ' -f1)
  rm -f "$venv/.requirements.sha256"
  ha_log "installing $(basename "$req") into $venv (first run: a few minutes)"
  local uv_pin
  uv_pin=$(grep -E '^uv==' "$req" || echo uv)
  "$venv/bin/python" -m pip install -qq --disable-pip-version-check "$uv_pin" >&2 \
    || { ha_log "could not install $uv_pin"; return 1; }
  local -a extras=()
  [ -n "$extra" ] && mapfile -t extras <<<"$extra"
  if ! UV_LINK_MODE=copy "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" \
    -r "$req" "${extras[@]}" >&2; then
    ha_log "uv failed; trying pip"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" "${extras[@]}" >&2 \
      || { ha_log "installing $(basename "$req") failed"; return 1; }
  fi
  echo "$stamp" >"$venv/.requirements.sha256"
  echo "$venv"
}
