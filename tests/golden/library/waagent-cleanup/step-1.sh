#!/bin/sh
# Cleans the build VM before capture, as a complement to the `waagent -force -deprovision+user`
# AIB runs at the very end of every Linux build (which this script does not run: deprovisioning
# here would delete the user AIB is still connected as). It removes what deprovisioning leaves:
# package caches, log contents, shell histories, temporary files and, if asked, SSH host keys.
# Log files are emptied in place, not deleted, so directories, owners, modes and the files
# services hold open all stay as they are. Safe to run twice: the second run finds less to do.
set -eu

package_manager() {
  if command -v apt-get >/dev/null 2>&1; then
    echo apt
  elif command -v tdnf >/dev/null 2>&1; then
    echo tdnf
  elif command -v dnf >/dev/null 2>&1; then
    echo dnf
  fi
}
apt_get() {
  sudo env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get -q -y -o DPkg::Lock::Timeout=600 "$@"
}

echo '==> Removing packages nothing needs any more'
pm=$(package_manager)
case "$pm" in
  apt) apt_get autoremove --purge ;;
  tdnf | dnf) sudo "$pm" -y autoremove ;;
  *) echo 'No apt-get, tdnf or dnf: skipped' ;;
esac
echo '==> Removing downloaded packages and package manager caches'
pm=$(package_manager)
case "$pm" in
  apt) apt_get clean ;;
  tdnf | dnf) sudo "$pm" clean all ;;
  *) echo 'No apt-get, tdnf or dnf: skipped' ;;
esac
if [ "$(package_manager)" = apt ]; then
  # apt-get install on VMs made from the image then needs apt-get update first.
  echo '==> Removing apt package lists'
  sudo find /var/lib/apt/lists -mindepth 1 -maxdepth 1 -type f ! -name lock -delete
fi
lines() {
  if [ -z "$1" ]; then
    echo 0
  else
    printf '%s\n' "$1" | wc -l | tr -d ' '
  fi
}
echo '==> Emptying logs under /var/log'
# The systemd journal is binary and open: rotate it and drop the archived files instead.
if command -v journalctl >/dev/null 2>&1; then
  sudo journalctl --rotate >/dev/null 2>&1 || true
  sudo journalctl --vacuum-time=1s >/dev/null 2>&1 || true
fi
# Rotated logs (syslog.1, messages-20240101, *.gz, ...) are whole files of old entries: deleted.
removed=$(sudo find /var/log -xdev -type f ! -path '/var/log/journal/*' \( \
  -name '*.[0-9]' -o -name '*.[0-9][0-9]' -o -name '*.gz' -o -name '*.xz' -o -name '*.bz2' \
  -o -name '*.zst' -o -name '*.old' -o -name '*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' \) \
  -print -delete)
# Current logs (wtmp, btmp and lastlog too: empty is their initial state) are emptied in place.
emptied=$(sudo find /var/log -xdev -type f ! -path '/var/log/journal/*' -size +0c \
  -print -exec truncate -s 0 {} +)
echo "Deleted $(lines "$removed") rotated log files, emptied $(lines "$emptied") log files"
echo '==> Removing shell and tool histories of root and the users in /home'
sudo find /root /home -maxdepth 2 -type f \( -name .bash_history -o -name .zsh_history \
  -o -name .sh_history -o -name .ash_history -o -name .python_history -o -name .lesshst \
  -o -name .viminfo -o -name .mysql_history -o -name .psql_history -o -name .wget-hsts \) \
  -print -delete
echo '==> Removing temporary files from /tmp and /var/tmp'
# Kept: the private /tmp directories of running services (systemd-private-*, snap-private-tmp),
# X11 and ICE socket directories, and this script, which AIB has uploaded to /tmp.
sudo find /tmp /var/tmp -mindepth 1 -maxdepth 1 ! -name 'systemd-private-*' \
  ! -name snap-private-tmp ! -name '.*-unix' ! -path "$0" -exec rm -rf {} +
sync
echo 'waagent-cleanup: done'
