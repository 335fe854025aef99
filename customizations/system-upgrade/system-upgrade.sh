#!/bin/sh
# Upgrades every installed package to the newest version the VM's repositories offer, so the
# image starts out patched: apt-get dist-upgrade on Debian/Ubuntu, dnf upgrade on RHEL and its
# rebuilds, tdnf upgrade on Azure Linux. Safe to run twice: the second run finds nothing to do.
# AIB has no restart step for Linux, so a new kernel is used from the first boot of a VM made
# from the image.
set -eu

os_field() { sed -n "s/^$1=//p" /etc/os-release 2>/dev/null | tr -d "\"'"; }
echo "system-upgrade: $(os_field PRETTY_NAME)"

# cloud-init may still be installing packages (and holding the package lock) on a fresh VM.
if command -v cloud-init >/dev/null 2>&1; then
  echo 'Waiting for cloud-init to finish (10 minutes at most)'
  sudo timeout 600 cloud-init status --wait >/dev/null 2>&1 || true
fi

if command -v apt-get >/dev/null 2>&1; then
  # noninteractive: no debconf questions; confold/UCF_FORCE_CONFOLD: keep configuration files
  # earlier steps changed; NEEDRESTART_SUSPEND: needrestart (Ubuntu) neither asks nor restarts
  # services on the build VM. DPkg::Lock::Timeout waits for unattended-upgrades.
  apt_get() {
    sudo env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFOLD=1 NEEDRESTART_SUSPEND=1 \
      apt-get -q -y -o DPkg::Lock::Timeout=600 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
  }
  echo '==> apt-get update'
  apt_get update
  echo '==> apt-get dist-upgrade'
  apt_get dist-upgrade
{{#if autoremove}}
  echo '==> apt-get autoremove --purge'
  apt_get autoremove --purge
{{/if}}
{{#if cleanCaches}}
  echo '==> apt-get clean'
  apt_get clean
{{/if}}
  if [ -f /var/run/reboot-required ]; then
    echo 'Note: the upgrade needs a restart (new kernel or core library); VMs made from the image get it at first boot.'
  fi
else
  # Azure Linux (CBL-Mariner) has tdnf; RHEL, AlmaLinux, Rocky Linux and Oracle Linux have dnf.
  if command -v tdnf >/dev/null 2>&1; then
    pm=tdnf
  elif command -v dnf >/dev/null 2>&1; then
    pm=dnf
  else
    echo 'system-upgrade: found none of apt-get, tdnf, dnf; this distribution is not supported' >&2
    exit 1
  fi
  echo "==> $pm upgrade"
  sudo "$pm" -y upgrade --refresh
{{#if autoremove}}
  echo "==> $pm autoremove"
  sudo "$pm" -y autoremove
{{/if}}
{{#if cleanCaches}}
  echo "==> $pm clean all"
  sudo "$pm" clean all
{{/if}}
fi
echo "system-upgrade: done (running kernel $(uname -r))"
