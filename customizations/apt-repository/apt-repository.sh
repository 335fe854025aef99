#!/bin/sh
# Adds an apt repository and its signing key. The key is stored on its own in
# /etc/apt/keyrings/NAME.gpg and the repository in /etc/apt/sources.list.d/NAME.sources (deb822),
# whose Signed-By names that keyring: apt trusts the key for this repository only, not for all
# of them as apt-key did. With expected fingerprints, only those keys are taken from the
# download, and a download without them fails the build. Safe to run twice: files that are
# already up to date are left alone.
set -eu

name='{{name}}'
key_url='{{keyUrl}}'
repo_url='{{url}}'
suite='{{suite}}'

fail() {
  echo "apt-repository: $*" >&2
  exit 1
}
join() {
  out=''
  for w in "$@"; do out="${out:+$out }$w"; done
  printf '%s' "$out"
}
os_field() { sed -n "s/^$1=//p" /etc/os-release 2>/dev/null | tr -d "\"'"; }

# Check the values before touching anything. apt reads only files named with letters, digits,
# '_', '-' and '.'; a value with white space would be read as two values by apt.
case "$name" in
  '' | [._-]* | *[!A-Za-z0-9._-]*) fail "name \`$name\`: use letters, digits, '.', '_' and '-'" ;;
esac
case "$key_url" in
  https://?*) ;;
  *) fail 'keyUrl must be an https:// URL' ;;
esac
case "$repo_url" in
  http://?* | https://?*) ;;
  *) fail 'url must be an http:// or https:// URL' ;;
esac
for v in "$key_url" "$repo_url" "$suite" {{sh-list components}} {{sh-list architectures}}; do
  case "$v" in
    '' | *[[:space:]]*) fail "\`$v\`: values must not be empty or contain white space" ;;
  esac
done
case "$suite" in
  *'{codename}'*)
    codename=$(os_field VERSION_CODENAME)
    [ -n "$codename" ] || fail 'suite uses {codename}, but /etc/os-release has no VERSION_CODENAME'
    suite=$(printf '%s' "$suite" | sed "s/{codename}/$codename/g")
    ;;
esac
set -- {{sh-list components}}
components=$(join "$@")
set -- {{sh-list architectures}}
architectures=$(join "$@")
if [ -z "$components" ]; then
  case "$suite" in
    */) ;;
    *) fail "suite \`$suite\` without components: a flat repository's suite is a path ending in '/'" ;;
  esac
fi

keyring="/etc/apt/keyrings/$name.gpg"
sources="/etc/apt/sources.list.d/$name.sources"
echo "apt-repository: $name ($repo_url $suite${components:+ $components})"

apt_get() {
  sudo env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get -q -y -o DPkg::Lock::Timeout=600 "$@"
}

# cloud-init may still be running apt on a fresh VM.
if command -v cloud-init >/dev/null 2>&1; then
  echo 'Waiting for cloud-init to finish (10 minutes at most)'
  sudo timeout 600 cloud-init status --wait >/dev/null 2>&1 || true
fi

# curl downloads the key, gpg checks and converts it; minimal images may lack either.
set --
command -v curl >/dev/null 2>&1 || set -- "$@" curl
command -v gpg >/dev/null 2>&1 || set -- "$@" gpg
if [ $# -gt 0 ]; then
  echo "Installing $*"
  apt_get update
  apt_get install --no-install-recommends ca-certificates "$@"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A throw-away keyring: nothing is imported into any user's or root's keyring. Public keys need
# no gpg-agent (minimal images have none): --no-autostart keeps gpg from trying to start one.
export GNUPGHOME="$tmp/gnupg"
mkdir -m 0700 "$GNUPGHOME"
pgp() { gpg --batch --no-autostart "$@"; }

# The query string is left out of the log, in case the URL carries a token.
echo "Downloading the signing key from ${key_url%%\?*}"
curl -fsSL --proto '=https' --tlsv1.2 --retry 5 --retry-delay 5 --connect-timeout 20 --max-time 120 \
  -o "$tmp/key" "$key_url"
if ! pgp --quiet --import "$tmp/key" 2>"$tmp/gpg.log"; then
  cat "$tmp/gpg.log" >&2
  fail 'the download is not an OpenPGP public key (armored or binary)'
fi
# Colon listing: the fpr record after a pub record is a primary key's fingerprint; the one after a
# sub record, a subkey's. Field 2 of pub is the validity: e = expired, r = revoked.
pgp --with-colons --list-keys >"$tmp/keys"
all_fprs=$(awk -F: '$1 == "fpr" { print $10 }' "$tmp/keys")

# The expected fingerprints, normalized: without spaces or colons, in capitals.
set -- {{sh-list fingerprints}}
: >"$tmp/wanted"
for want in "$@"; do
  fpr=$(printf '%s' "$want" | tr -d ' :' | tr 'abcdef' 'ABCDEF')
  fpr=${fpr#0X}
  case "$fpr" in
    *[!0-9A-F]*) fail "\`$want\` is not a key fingerprint (hexadecimal)" ;;
  esac
  if [ ${#fpr} -ne 40 ] && [ ${#fpr} -ne 64 ]; then
    fail "\`$want\` is not a full fingerprint (40 hexadecimal digits, 64 for v5 keys): short key IDs are easy to fake"
  fi
  if ! printf '%s\n' "$all_fprs" | grep -qxF "$fpr"; then
    echo "apt-repository: the downloaded key file has these keys (fingerprints, subkeys included):" >&2
    printf '%s\n' "$all_fprs" | sed 's/^/  /' >&2
    fail "no key with the expected fingerprint $fpr: refusing to trust it"
  fi
  printf '%s\n' "$fpr" >>"$tmp/wanted"
done
set --
while read -r fpr; do set -- "$@" "$fpr"; done <"$tmp/wanted"
if [ $# -gt 0 ]; then
  echo "Fingerprint check passed: $*"
else
  echo 'Warning: no fingerprints given; trusting every key in the download (pin them with fingerprints).'
fi
# Without arguments gpg exports every key; with fingerprints, only the keys that hold them.
pgp --export "$@" >"$tmp/keyring.gpg"
[ -s "$tmp/keyring.gpg" ] || fail 'exporting the key failed'
pgp --with-colons --import-options show-only --import "$tmp/keyring.gpg" 2>/dev/null |
  awk -F: '
    $1 == "pub" { state = $2; next_fpr = 1; next }
    $1 == "fpr" && next_fpr { fpr = $10; next_fpr = 0 }
    $1 == "uid" && fpr != "" {
      note = state == "e" ? "  (EXPIRED)" : state == "r" ? "  (REVOKED)" : ""
      printf "Trusting %s %s%s\n", fpr, $10, note; fpr = ""
    }'

{
  echo "# Added by the aibc customization apt-repository; key from ${key_url%%\?*}"
  echo 'Types: deb'
  echo "URIs: $repo_url"
  echo "Suites: $suite"
  [ -z "$components" ] || echo "Components: $components"
  [ -z "$architectures" ] || echo "Architectures: $architectures"
  echo "Signed-By: $keyring"
} >"$tmp/sources"

# The files as they were, to put back if apt-get update fails with the new ones.
for f in "$keyring" "$sources"; do
  if [ -f "$f" ]; then cp "$f" "$tmp/old-${f##*/}"; fi
done
restore() {
  echo 'apt-repository: putting the previous files back' >&2
  for f in "$keyring" "$sources"; do
    if [ -f "$tmp/old-${f##*/}" ]; then
      sudo install -m 0644 -o root -g root "$tmp/old-${f##*/}" "$f"
    else
      sudo rm -f "$f"
    fi
  done
}
put() {
  if cmp -s "$1" "$2"; then
    echo "$2 is up to date"
  else
    sudo install -m 0644 -o root -g root "$1" "$2"
    echo "Wrote $2"
  fi
}
sudo install -d -m 0755 /etc/apt/keyrings
put "$tmp/keyring.gpg" "$keyring"
put "$tmp/sources" "$sources"

# The same repository in another file with another Signed-By makes apt-get update fail.
others=$(grep -lsF -- "$repo_url" /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -vxF "$sources" || true)
if [ -n "$others" ]; then
  echo "Warning: $repo_url is also configured in:"
  printf '%s\n' "$others" | sed 's/^/  /'
  echo "apt-get update fails with 'Conflicting values set for option Signed-By' if those name another key."
fi

echo '==> apt-get update'
if ! apt_get update; then
  restore
  fail "apt-get update failed with the repository $name"
fi
echo "apt-repository: $name added"
