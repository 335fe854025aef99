#!/bin/sh
# Turns off password and root logins over SSH. Safe to run twice.
set -eu
conf=/etc/ssh/sshd_config.d/50-aibc-hardening.conf
sudo tee "$conf" >/dev/null <<'CONF'
PasswordAuthentication no
PermitRootLogin no
X11Forwarding no
MaxAuthTries 3
CONF
sudo sshd -t
