#!/bin/bash
# Image validation: every tool in /tmp/expected-tools.txt (copied by the validation's
# File step) runs and prints its version, Docker is enabled, and the build left no
# credentials behind. Reports every failure, then exits 1 if there was any.
set -uo pipefail

list=/tmp/expected-tools.txt
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

if [ ! -r "$list" ]; then
  echo "FAIL: $list is missing" >&2
  exit 1
fi

while read -r tool args; do
  case "$tool" in '' | '#'*) continue ;; esac
  if ! command -v "$tool" >/dev/null 2>&1; then
    fail "$tool is not installed"
    continue
  fi
  # $args is split into words on purpose: it holds the command's arguments.
  # shellcheck disable=SC2086
  if output=$("$tool" $args 2>&1 </dev/null) && [ -n "$output" ]; then
    echo "ok   $tool: ${output%%$'\n'*}"
  else
    fail "'$tool $args' failed"
  fi
done <"$list"

systemctl is-enabled --quiet docker.service || fail "docker.service is not enabled"

# Nothing from the build may stay logged in to a registry or to Azure.
for leftover in /root/.docker/config.json /root/.azure "$HOME/.docker/config.json" "$HOME/.azure/msal_token_cache.json"; do
  if sudo test -e "$leftover"; then
    fail "$leftover exists; credentials from the build would ship with the image"
  fi
done

rm -f "$list"
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
