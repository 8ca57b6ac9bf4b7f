#!/usr/bin/env bash
# %%{script}: %%{purpose}, one component at a time, %%{order}.
# Recipe %%{recipe} (%%{digest}), compiled by %%{compiler}; written by `aicrc bundle`.
# `./%%{script} --help` lists the options; README.md describes the bundle.
set -euo pipefail

SCRIPT=%%{script}
# The components, %%{order}.
COMPONENTS=(%%{components})

usage() {
  cat <<'EOF'
Usage: ./%%{script} [--dry-run] [--from COMPONENT] [--retries N] [--timeout DURATION] [--no-wait]

%%{purpose}, one component at a time, %%{order}:
%%{listing}

Options:
  --dry-run           print each command instead of running it
  --from COMPONENT    start at COMPONENT, skipping the ones before it (to resume after a failure)
  --retries N         retry a failed command up to N times, waiting twice as long each time
                      (default 5; 0 stops at the first failure)
  --timeout DURATION  how long Helm waits for each release (default 10m)
  --no-wait           do not wait for each release to be ready
  -h, --help          show this help and exit

Environment:
  AICRC_BACKOFF_BASE  seconds to wait before the first retry (default 5; at most 300 between tries)
EOF
}

fail_usage() {
  echo "${SCRIPT}: error: $1" >&2
  echo "Try './${SCRIPT} --help'." >&2
  exit 2
}

DRY_RUN=false
START_AT=""
RETRIES=5
TIMEOUT=10m
WAIT=--wait
BACKOFF_BASE="${AICRC_BACKOFF_BASE:-5}"
BACKOFF_MAX=300

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --from | --retries | --timeout)
      [[ $# -ge 2 ]] || fail_usage "$1 needs a value"
      case "$1" in
        --from) START_AT="$2" ;;
        --retries) RETRIES="$2" ;;
        --timeout) TIMEOUT="$2" ;;
      esac
      shift
      ;;
    --from=*) START_AT="${1#*=}" ;;
    --retries=*) RETRIES="${1#*=}" ;;
    --timeout=*) TIMEOUT="${1#*=}" ;;
    --no-wait) WAIT="" ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) fail_usage "unknown option: $1" ;;
  esac
  shift
done

WHOLE_NUMBER='^[0-9]{1,3}$'
DURATION='^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$'
[[ "${RETRIES}" =~ ${WHOLE_NUMBER} ]] || fail_usage "--retries: expected a whole number below 1000, not '${RETRIES}'"
[[ "${BACKOFF_BASE}" =~ ${WHOLE_NUMBER} ]] || fail_usage "AICRC_BACKOFF_BASE: expected whole seconds below 1000, not '${BACKOFF_BASE}'"
[[ "${TIMEOUT}" =~ ${DURATION} ]] || fail_usage "--timeout: expected a duration such as 10m or 1h30m, not '${TIMEOUT}'"

is_component() {
  local component
  for component in "${COMPONENTS[@]}"; do
    if [[ "${component}" == "$1" ]]; then
      return 0
    fi
  done
  return 1
}

if [[ -n "${START_AT}" ]] && ! is_component "${START_AT}"; then
  fail_usage "--from: no component '${START_AT}' in this bundle (it has: ${COMPONENTS[*]})"
fi

if [[ "${DRY_RUN}" != true ]]; then
  for tool in %%{tools}; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
      echo "${SCRIPT}: ${tool} is not installed, or not on PATH" >&2
      exit 1
    fi
  done
fi

BUNDLE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Helm installs a chart name that is also a folder where it runs (gpu-operator, here) from that
# folder: run from an empty one. Every file of the bundle is named by its full path.
WORK_DIR="$(mktemp -d)"
CURRENT=""

finish() {
  local status=$?
  rm -rf "${WORK_DIR}"
  if [[ ${status} -ne 0 && -n "${CURRENT}" ]]; then
    echo "${SCRIPT}: stopped at ${CURRENT}; once that is fixed, resume with: ./${SCRIPT} --from ${CURRENT}" >&2
  fi
}
trap finish EXIT
cd "${WORK_DIR}"

# A command as the shell would read it back.
show() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
}

# Show a command and run it (not with --dry-run); retry it with exponential backoff when it fails.
run() {
  show "$@"
  if [[ "${DRY_RUN}" == true ]]; then
    return 0
  fi
  local attempt=0 delay="${BACKOFF_BASE}"
  until "$@"; do
    if [[ ${attempt} -ge ${RETRIES} ]]; then
      echo "${SCRIPT}: $1 failed $((attempt + 1)) times; giving up" >&2
      return 1
    fi
    attempt=$((attempt + 1))
    if [[ ${delay} -gt ${BACKOFF_MAX} ]]; then
      delay=${BACKOFF_MAX}
    fi
    echo "${SCRIPT}: $1 failed; retry ${attempt} of ${RETRIES} in ${delay}s" >&2
    sleep "${delay}"
    delay=$((delay * 2))
  done
}

# What each component takes, from the compiled recipe.
step() {
  case "$1" in
%%{steps}
  esac
}

started=false
if [[ -z "${START_AT}" ]]; then
  started=true
fi
visited=0
for component in "${COMPONENTS[@]}"; do
  if [[ "${component}" == "${START_AT}" ]]; then
    started=true
  fi
  if [[ "${started}" != true ]]; then
    echo "skipping ${component} (before ${START_AT})"
    continue
  fi
  CURRENT="${component}"
  echo "==> ${component}"
  step "${component}"
  visited=$((visited + 1))
done
CURRENT=""
if [[ "${DRY_RUN}" == true ]]; then
  echo "${SCRIPT}: dry run: showed the commands for ${visited} components and ran none"
else
  echo "${SCRIPT}: %%{done} ${visited} components"
fi
