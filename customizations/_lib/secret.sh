# Reads a Key Vault secret with the build VM's user-assigned identity, through the instance
# metadata service. Prints the value to standard output only (capture it; never echo it).
aibc_secret() {
  aibc_identity='{{vmIdentity}}'
  # The token's audience is the vault's cloud: https://vault.azure.net, .usgovcloudapi.net, .azure.cn
  aibc_resource="https://$(printf '%s' "$1" | sed -e 's|^https://[^.]*\.||' -e 's|/.*||')"
  aibc_token=$(curl -sSf -H 'Metadata: true' --get \
    --data-urlencode "resource=$aibc_resource" \
    --data-urlencode "msi_res_id=$aibc_identity" \
    --data-urlencode 'api-version=2018-02-01' \
    'http://169.254.169.254/metadata/identity/oauth2/token' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  curl -sSf -H "Authorization: Bearer $aibc_token" "$1?api-version=7.4" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["value"])'
}
