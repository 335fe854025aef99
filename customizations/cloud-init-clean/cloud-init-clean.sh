#!/bin/sh
# Resets cloud-init and the machine ID before the image is captured, so every VM made from the
# image runs cloud-init as a new instance and gets its own /etc/machine-id. `cloud-init clean
# --logs` removes /var/lib/cloud (instance data, the record of which per-instance and per-once
# modules ran) and cloud-init's logs. AIB's own final `waagent -deprovision+user` touches neither.
# Safe to run twice: the second run finds nothing left to remove.
set -eu

machine_id='{{machineId}}'

if command -v cloud-init >/dev/null 2>&1; then
  # Cleaning while cloud-init is still running (early in a build) would leave half a state.
  echo 'Waiting for cloud-init to finish (10 minutes at most)'
  sudo timeout 600 cloud-init status --wait >/dev/null 2>&1 || true
  echo '==> cloud-init clean --logs'
  sudo cloud-init clean --logs
else
  echo 'cloud-init is not installed: no cloud-init state to clean'
fi

case "$machine_id" in
  empty)
    # An empty file: systemd generates a new ID at the next boot and writes it here.
    echo '==> Emptying /etc/machine-id'
    sudo truncate -s 0 /etc/machine-id
    ;;
  uninitialized)
    # systemd 247 and later also treat the next boot as the first one (ConditionFirstBoot units
    # run, unit presets are applied); older versions see an invalid ID and generate a new one.
    echo '==> Setting /etc/machine-id to "uninitialized"'
    printf 'uninitialized\n' | sudo tee /etc/machine-id >/dev/null
    ;;
  keep)
    echo 'Keeping /etc/machine-id (every VM made from the image will share it)'
    ;;
  *)
    echo "cloud-init-clean: machineId \`$machine_id\` is not empty, uninitialized or keep" >&2
    exit 1
    ;;
esac
if [ "$machine_id" != keep ] && [ -d /var/lib/dbus ] && [ ! -L /var/lib/dbus/machine-id ]; then
  # Older systemd versions fall back to a D-Bus machine ID that is a file of its own, which
  # would bring the old ID back: make it a link to /etc/machine-id, as Debian and Ubuntu ship it.
  echo '==> Linking /var/lib/dbus/machine-id to /etc/machine-id'
  sudo rm -f /var/lib/dbus/machine-id
  sudo ln -s /etc/machine-id /var/lib/dbus/machine-id
fi
echo 'cloud-init-clean: done'
