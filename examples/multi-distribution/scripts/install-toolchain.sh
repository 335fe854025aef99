#!/bin/bash
# Installs the CI agent toolchain: build essentials, Git, Python, Docker and the Azure CLI.
#
# Ubuntu's own packages where they are current enough; the Azure CLI from Microsoft's
# repository, whose signing key is checked against its published fingerprint before apt
# trusts it. Safe to run again: apt skips what is installed, files are rewritten whole.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

microsoft_key_url=https://packages.microsoft.com/keys/microsoft.asc
microsoft_key_fpr=BC528686B50D79E339D3721CEB3E94ADBE1229CF
keyring=/usr/share/keyrings/microsoft-prod.gpg

sudo apt-get update
sudo apt-get install -y --no-install-recommends \
  build-essential git git-lfs jq unzip zip curl ca-certificates gnupg \
  python3 python3-venv python3-pip \
  docker.io

# Azure CLI repository. The key is fetched into a scratch file and its fingerprint
# compared before it goes into the keyring apt uses.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
curl -fsSL --retry 5 "$microsoft_key_url" -o "$scratch/microsoft.asc"
actual_fpr=$(gpg --show-keys --with-colons "$scratch/microsoft.asc" | awk -F: '$1 == "fpr" { print $10; exit }')
if [ "$actual_fpr" != "$microsoft_key_fpr" ]; then
  echo "unexpected Microsoft signing key fingerprint: $actual_fpr" >&2
  exit 1
fi
gpg --dearmor <"$scratch/microsoft.asc" >"$scratch/microsoft.gpg"
sudo install -o root -g root -m 0644 "$scratch/microsoft.gpg" "$keyring"
# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
echo "deb [arch=amd64 signed-by=$keyring] https://packages.microsoft.com/repos/azure-cli/ $codename main" |
  sudo tee /etc/apt/sources.list.d/azure-cli.list >/dev/null
sudo apt-get update
sudo apt-get install -y --no-install-recommends azure-cli

# Docker: bounded container logs (agents run thousands of jobs), started at boot.
sudo install -d -o root -g root -m 0755 /etc/docker
sudo tee /etc/docker/daemon.json >/dev/null <<'JSON'
{
  "log-driver": "local",
  "log-opts": { "max-size": "20m", "max-file": "3" },
  "live-restore": true
}
JSON
sudo systemctl enable docker.service containerd.service
sudo systemctl restart docker.service

git lfs version
az version --output table
