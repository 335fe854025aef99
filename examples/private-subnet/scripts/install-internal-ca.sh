#!/bin/bash
# Installs Contoso's internal root CA, kept as a PEM secret in Key Vault, into the
# system trust store.
#
# The build VM signs in to Key Vault as its user-assigned identity (build.vmIdentities
# in image.yaml). Key Vault is reached through its private endpoint from the build
# subnet. The identity stays with the build VM; VMs made from the image do not get it.
#
# Safe to run again: the certificate file is rewritten with the same content.
set -euo pipefail

vault=kv-platform-build-weu
secret=contoso-root-ca-pem
target=/usr/local/share/ca-certificates/contoso-root-ca.crt

imds='http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net'
token=$(curl -fsS --retry 5 --retry-delay 3 -H 'Metadata: true' "$imds" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

pem=$(mktemp)
trap 'rm -f "$pem"' EXIT

# The header goes in on stdin, so the token never shows up in the process list.
printf 'Authorization: Bearer %s\n' "$token" |
  curl -fsS --retry 5 --retry-delay 3 -H @- \
    "https://$vault.vault.azure.net/secrets/$secret?api-version=7.4" |
  python3 -c 'import json, sys; sys.stdout.write(json.load(sys.stdin)["value"].strip() + "\n")' >"$pem"

# Refuse anything but a CA certificate.
openssl x509 -in "$pem" -noout -subject -enddate
if ! openssl x509 -in "$pem" -noout -ext basicConstraints | grep -q 'CA:TRUE'; then
  echo "secret $secret in $vault is not a CA certificate" >&2
  exit 1
fi

sudo install -o root -g root -m 0644 "$pem" "$target"
sudo update-ca-certificates
