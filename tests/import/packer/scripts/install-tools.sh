#!/usr/bin/env bash
# Installs the build tools the CI agents need.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
sudo apt-get update
sudo apt-get install -y --no-install-recommends git jq make unzip
