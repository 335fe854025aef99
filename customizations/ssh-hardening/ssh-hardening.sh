#!/bin/sh
# Hardens the SSH server along the lines of the CIS benchmarks with a drop-in file,
# /etc/ssh/sshd_config.d/01-aibc-ssh-hardening.conf, leaving the distribution's sshd_config as it
# is (except for adding the Include line where it has none). sshd keeps the first value it reads
# for a keyword; sshd_config includes the drop-ins, in name order, before its own settings, so
# this file's early name makes its settings win over cloud-init's 50-cloud-init.conf and RHEL's
# 50-redhat.conf. The result is checked with `sshd -t` and `sshd -T`; if either check fails, every
# file is put back as it was and the step fails. The running sshd is not restarted: the settings
# apply from the next start of sshd, that is on VMs made from the image.
# Safe to run twice: the second run finds the same files and changes nothing.
set -eu

conf_dir=/etc/ssh/sshd_config.d
dropin="$conf_dir/01-aibc-ssh-hardening.conf"
main=/etc/ssh/sshd_config
sysconfig=/etc/sysconfig/sshd
sshd=/usr/sbin/sshd

fail() {
  echo "ssh-hardening: $*" >&2
  exit 1
}
join() {
  sep=$1
  shift
  out=''
  for w in "$@"; do out="${out:+$out$sep}$w"; done
  printf '%s' "$out"
}

[ -x "$sshd" ] || fail "$sshd not found: install openssh-server first"
[ -f "$main" ] || fail "$main not found"

max_auth_tries='{{maxAuthTries}}'
client_alive_interval='{{clientAliveInterval}}'
client_alive_count_max='{{clientAliveCountMax}}'
login_grace_time='{{loginGraceTime}}'
for v in "$max_auth_tries" "$client_alive_interval" "$client_alive_count_max" "$login_grace_time"; do
  case "$v" in
    '' | *[!0-9]* | 0) fail "\`$v\`: the numbers must be whole numbers of 1 or more" ;;
  esac
done
set -- {{sh-list ciphers}} {{sh-list macs}} {{sh-list kexAlgorithms}}
for v in "$@"; do
  case "$v" in
    '' | *[!A-Za-z0-9@._-]*) fail "\`$v\`: not an algorithm name" ;;
  esac
done
# Group names may be patterns (*, ?, !); white space or quotes would split them.
set -- {{sh-list allowGroups}}
for v in "$@"; do
  case "$v" in
    '' | *[[:space:]]* | *\"* | *\'*) fail "\`$v\`: not a group name" ;;
  esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Algorithms this OpenSSH does not know make sshd refuse its configuration: keep only those that
# `ssh -Q` (same OpenSSH build as sshd) lists, in the given order.
supported() {
  kind=$1
  shift
  if ! command -v ssh >/dev/null 2>&1; then
    join , "$@"
    return
  fi
  ssh -Q "$kind" >"$tmp/known-$kind"
  keep=''
  for a in "$@"; do
    if grep -qxF -- "$a" "$tmp/known-$kind"; then
      keep="${keep:+$keep,}$a"
    else
      echo "Note: this OpenSSH does not offer the $kind algorithm $a; left out." >&2
    fi
  done
  if [ $# -gt 0 ] && [ -z "$keep" ]; then
    fail "this OpenSSH offers none of the $kind algorithms given"
  fi
  printf '%s' "$keep"
}

ciphers=''
macs=''
kex=''
if [ "$(cat /proc/sys/crypto/fips_enabled 2>/dev/null || echo 0)" = 1 ]; then
  echo 'FIPS mode is on: the algorithm lists are left to the FIPS crypto policy.'
else
  ciphers=$(supported cipher {{sh-list ciphers}})
  macs=$(supported mac {{sh-list macs}})
  kex=$(supported kex {{sh-list kexAlgorithms}})
fi
allow_groups=$(join ' ' {{sh-list allowGroups}})

{
  echo '# SSH hardening (CIS benchmark style), written by the aibc customization ssh-hardening.'
  echo '# sshd keeps the first value it reads for a keyword: this file is named to be read first.'
  echo 'PermitRootLogin no'
{{#if passwordAuthentication}}
  echo 'PasswordAuthentication yes'
{{else}}
  echo 'PasswordAuthentication no'
  # Keyboard-interactive authentication would still ask for the password, through PAM.
  echo 'KbdInteractiveAuthentication no'
{{/if}}
  echo 'PermitEmptyPasswords no'
  echo 'HostbasedAuthentication no'
  echo 'IgnoreRhosts yes'
  echo 'PermitUserEnvironment no'
  echo 'X11Forwarding no'
  echo 'LogLevel VERBOSE'
  echo 'MaxStartups 10:30:60'
  echo "MaxAuthTries $max_auth_tries"
  echo "LoginGraceTime $login_grace_time"
  echo "ClientAliveInterval $client_alive_interval"
  echo "ClientAliveCountMax $client_alive_count_max"
  [ -z "$ciphers" ] || echo "Ciphers $ciphers"
  [ -z "$macs" ] || echo "MACs $macs"
  [ -z "$kex" ] || echo "KexAlgorithms $kex"
  [ -z "$allow_groups" ] || echo "AllowGroups $allow_groups"
} >"$tmp/dropin"
# The same settings as sshd -T prints them (lowercase keywords), to check they are in effect.
# sshd -T prints AllowGroups one group a line; sshd -t has checked its syntax.
grep -v -e '^#' -e '^AllowGroups ' "$tmp/dropin" | awk '{ $1 = tolower($1); print }' >"$tmp/expected"

# Everything this step may change is saved first, so a failed check can put it back.
changed=''
rollback() {
  echo 'ssh-hardening: putting the SSH configuration back as it was' >&2
  # shellcheck disable=SC2086 # a list of paths without spaces
  for f in $changed; do
    if [ -f "$tmp/backup$f" ]; then
      sudo cp "$tmp/backup$f" "$f"
    else
      sudo rm -f "$f"
    fi
  done
}
save() {
  case " $changed " in *" $1 "*) return ;; esac
  changed="$changed $1"
  if sudo test -f "$1"; then
    mkdir -p "$tmp/backup$(dirname "$1")"
    # shellcheck disable=SC2024 # the copy is ours to write; sudo is for reading (mode 0600)
    sudo cat "$1" >"$tmp/backup$1"
  fi
}

# Distributions whose sshd_config does not read sshd_config.d (RHEL 8 and its rebuilds, for
# one): add the Include as the first line, so the drop-ins come before every other setting.
if ! sudo grep -Eiq '^[[:space:]]*Include[[:space:]]+(/etc/ssh/)?sshd_config\.d/\*\.conf([[:space:]]|$)' "$main"; then
  echo "Adding 'Include /etc/ssh/sshd_config.d/*.conf' at the top of $main"
  save "$main"
  {
    echo '# Added by the aibc customization ssh-hardening: read the drop-ins first.'
    echo 'Include /etc/ssh/sshd_config.d/*.conf'
    echo
    cat "$tmp/backup$main"
  } >"$tmp/sshd_config"
  # cp onto the existing file keeps its owner, mode and SELinux label.
  sudo cp "$tmp/sshd_config" "$main"
fi

# RHEL 8 and its rebuilds: sshd.service passes the system-wide crypto policy as -o options,
# which win over any file. An empty CRYPTO_POLICY= in /etc/sysconfig/sshd opts sshd out of it
# (Red Hat's documented way); RHEL 9 and later read the policy through an Include instead.
if [ -n "$ciphers$macs$kex" ] && grep -qs '^CRYPTO_POLICY=' /etc/crypto-policies/back-ends/opensshserver.config; then
  if sudo grep -qs '^[[:space:]]*CRYPTO_POLICY=' "$sysconfig"; then
    echo "$sysconfig sets CRYPTO_POLICY already; left as it is"
  else
    echo "Opting sshd out of the system crypto policy in $sysconfig, so the algorithm lists apply"
    save "$sysconfig"
    echo 'CRYPTO_POLICY=' | sudo tee -a "$sysconfig" >/dev/null
  fi
fi

sudo install -d -m 0755 "$conf_dir"
if sudo cmp -s "$tmp/dropin" "$dropin"; then
  echo "$dropin is up to date"
else
  save "$dropin"
  sudo install -m 0600 -o root -g root "$tmp/dropin" "$dropin"
  echo "Wrote $dropin:"
  sed 's/^/  /' "$tmp/dropin"
fi
if command -v restorecon >/dev/null 2>&1; then
  sudo restorecon "$dropin" "$main" || true
fi

# Debian and Ubuntu create sshd's privilege separation directory when the service starts;
# sshd -t refuses to run without it.
if [ -f /etc/debian_version ] && [ ! -d /run/sshd ]; then
  sudo install -d -m 0755 /run/sshd
fi

echo 'Checking the configuration with sshd -t'
if ! sudo "$sshd" -t 2>"$tmp/sshd-t.log"; then
  cat "$tmp/sshd-t.log" >&2
  rollback
  fail 'sshd rejects the configuration'
fi
# sshd -T prints the settings in effect: an earlier file or an Include further down sshd_config
# could still override the drop-in.
# shellcheck disable=SC2024 # the output file is ours to write
sudo "$sshd" -T >"$tmp/effective" 2>"$tmp/sshd-T.log" || {
  cat "$tmp/sshd-T.log" >&2
  rollback
  fail 'sshd -T failed'
}
missing=$(grep -vxF -f "$tmp/effective" "$tmp/expected" || true)
if [ -n "$missing" ]; then
  echo 'ssh-hardening: these settings are not in effect (another file sets them first):' >&2
  printf '%s\n' "$missing" | sed 's/^/  /' >&2
  echo 'In effect instead:' >&2
  printf '%s\n' "$missing" | while read -r key _; do grep "^$key " "$tmp/effective" | sed 's/^/  /' >&2 || true; done
  rollback
  fail 'the hardening would not take effect'
fi
echo 'ssh-hardening: done; sshd uses the settings from its next start (VMs made from the image)'
