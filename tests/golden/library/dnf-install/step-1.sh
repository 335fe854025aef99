#!/bin/sh
# Installs RPM packages with dnf (RHEL, AlmaLinux, Rocky Linux, Oracle Linux, CentOS Stream) or
# tdnf (Azure Linux), optionally enabling EPEL and other repositories first. Safe to run twice:
# enabling an enabled repository and installing an installed package change nothing.
set -eu

os_field() { sed -n "s/^$1=//p" /etc/os-release 2>/dev/null | tr -d "\"'"; }
echo "dnf-install: $(os_field PRETTY_NAME)"

if command -v tdnf >/dev/null 2>&1; then
  pm=tdnf
elif command -v dnf >/dev/null 2>&1; then
  pm=dnf
else
  echo 'dnf-install: neither tdnf nor dnf is installed; on Debian or Ubuntu use apt-install' >&2
  exit 1
fi

# cloud-init may still be installing packages on a fresh VM.
if command -v cloud-init >/dev/null 2>&1; then
  echo 'Waiting for cloud-init to finish (10 minutes at most)'
  sudo timeout 600 cloud-init status --wait >/dev/null 2>&1 || true
fi

# The repository IDs defined in /etc/yum.repos.d (subscription-manager's redhat.repo included).
repo_ids() { cat /etc/yum.repos.d/*.repo 2>/dev/null | sed -n 's/^[[:space:]]*\[\(.*\)\][[:space:]]*$/\1/p'; }

enable_repo() {
  if ! repo_ids | grep -qxF -- "$1"; then
    echo "dnf-install: no repository \`$1\` in /etc/yum.repos.d; defined are:" >&2
    repo_ids | sed 's/^/  /' >&2
    exit 1
  fi
  echo "Enabling repository $1"
  if [ "$pm" = tdnf ]; then
    # tdnf has no config-manager: set enabled=1 in the repository's own section.
    for f in /etc/yum.repos.d/*.repo; do
      awk -v sect="[$1]" '
        /^[[:space:]]*\[/ { inside = ($0 == sect) }
        inside && /^[[:space:]]*enabled[[:space:]]*=/ { $0 = "enabled=1" }
        { print }' "$f" >"$tmp/repo"
      if ! cmp -s "$tmp/repo" "$f"; then
        # cp onto the existing file keeps its owner, mode and SELinux label.
        sudo cp "$tmp/repo" "$f"
      fi
    done
  else
    if ! dnf config-manager --help >/dev/null 2>&1; then
      sudo dnf -y install dnf-plugins-core
    fi
    if dnf --version 2>/dev/null | grep -q dnf5; then
      sudo dnf config-manager setopt "$1.enabled=1"
    else
      sudo dnf config-manager --set-enabled "$1"
    fi
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# EPEL: Extra Packages for Enterprise Linux. Many EPEL packages need the CodeReady Builder
# repository (CRB; PowerTools on release 8), which the EPEL instructions enable too.
os_id=$(os_field ID)
major=$(os_field VERSION_ID | cut -d. -f1)
case "$os_id" in
  rhel | almalinux | rocky | centos | ol) ;;
  *)
    echo "dnf-install: EPEL is for RHEL and its rebuilds; this is \`$os_id\`" >&2
    exit 1
    ;;
esac
crb=$(repo_ids | grep -Ei '^(crb|powertools|ol[0-9]+_codeready_builder|codeready-builder-for-rhel-[0-9]+-.*)$' |
  grep -Ev 'debug|source|srpm' | head -n 1 || true)
if [ -n "$crb" ]; then
  enable_repo "$crb"
else
  echo 'Warning: found no CodeReady Builder repository to enable; EPEL packages that need it will not install.'
fi
case "$os_id" in
  ol) epel_pkg="oracle-epel-release-el$major" ;;
  *) epel_pkg=epel-release ;;
esac
if rpm -q "$epel_pkg" >/dev/null 2>&1; then
  echo "EPEL: $epel_pkg is installed already"
elif [ "$os_id" = rhel ]; then
  # RHEL's own repositories do not carry epel-release; the EPEL project publishes it.
  echo "Installing $epel_pkg for EPEL $major"
  sudo dnf -y install "https://dl.fedoraproject.org/pub/epel/epel-release-latest-$major.noarch.rpm"
else
  echo "Installing $epel_pkg"
  sudo dnf -y install "$epel_pkg"
fi

echo "==> $pm install"
sudo "$pm" -y install 'htop' 'jq' 'tmux'
echo 'dnf-install: done'
