#!/bin/sh
# Installs packages with apt. Safe to run twice: apt skips what is installed already.
set -eu
export DEBIAN_FRONTEND=noninteractive
# cloud-init may still hold the apt lock on a fresh VM.
sudo cloud-init status --wait >/dev/null 2>&1 || true
sudo -E apt-get update -q
{{#if upgrade}}
sudo -E apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade
{{/if}}
# shellcheck disable=SC2086 # the package list is quoted word by word by aibc
sudo -E apt-get install -y -q --no-install-recommends {{sh-list packages}}
